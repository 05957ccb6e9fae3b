// The admin users pages, at AuthGate's paths: list and search, create (generated password shown once),
// detail with the user's tokens, apps, connections and browser sessions, edit, role, disable/enable,
// password reset (shown once), delete with a confirmation page. Every read and change is a GraphQL
// operation run as the signed-in administrator; the rules (not yourself, not the last admin, local
// users only) are the API's, and its refusals are shown as they come.
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  AdminCreateUserDocument,
  AdminDeleteUserDocument,
  AdminDisableUserDocument,
  AdminEnableUserDocument,
  AdminResetUserPasswordDocument,
  AdminRevokeUserAuthorizationDocument,
  AdminRevokeUserSessionDocument,
  AdminRevokeUserTokenDocument,
  AdminSetUserRoleDocument,
  AdminUnlinkUserConnectionDocument,
  AdminUpdateUserDocument,
  AdminUserAuthorizationsDocument,
  AdminUserBasicsDocument,
  AdminUserConnectionsDocument,
  AdminUserDetailDocument,
  AdminUsersDocument,
  type Role,
  type UserFilter,
} from '../generated/graphql.js';
import {
  act,
  adminOnly,
  checked,
  csrfProtect,
  fieldErrors,
  flash,
  form,
  globalId,
  OperationFailed,
  paging,
  rawId,
  showOnce,
  text,
  withoutPaging,
  type FieldErrors,
  type PageDeps,
} from './kit.js';

const PAGE_SIZE = 25;
const ROLES: { value: string; label: string }[] = [
  { value: 'USER', label: 'User' },
  { value: 'ADMIN', label: 'Administrator' },
];

/**
 * A database id from the URL. Ids are UUIDs (sessions: a hash); anything else names nothing, so it is
 * a 404 like an unknown id rather than a question for the API.
 */
function idParam(ctx: Context, name: string): string {
  const value = ctx.params[name] ?? '';
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(value)) throw new OperationFailed('There is no such item.', 'NOT_FOUND');
  return value;
}

/** "device code" rather than urn:ietf:params:oauth:grant-type:device_code. */
function grantLabel(grantType: string): string {
  return grantType.replace(/^urn:ietf:params:oauth:grant-type:/, '').replace(/_/g, ' ');
}

const userPath = (id: string) => `/admin/users/${encodeURIComponent(id)}`;

/** The list's filters from the query string; an unknown value is a 400 page, not a silent "any". */
function listFilter(ctx: Context): { filter: UserFilter; values: Record<string, string> } {
  const one = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
  const values = { q: one('q'), role: one('role'), status: one('status'), source: one('source') };
  const filter: UserFilter = {};
  if (values.q) filter.search = values.q;
  if (values.role) {
    if (values.role !== 'ADMIN' && values.role !== 'USER') throw new OperationFailed(`"${values.role.slice(0, 40)}" is not a role.`, 'BAD_USER_INPUT');
    filter.role = values.role;
  }
  if (values.status) {
    if (values.status !== 'active' && values.status !== 'disabled') throw new OperationFailed(`"${values.status.slice(0, 40)}" is not a status (active or disabled).`, 'BAD_USER_INPUT');
    filter.active = values.status === 'active';
  }
  if (values.source) filter.authSource = values.source;
  return { filter, values };
}

export function adminUserPages(router: Router, deps: PageDeps): void {
  const { gql, render } = deps;

  async function loadBasics(ctx: Context, id: string) {
    const data = await gql.run(ctx, AdminUserBasicsDocument, { id: globalId('User', id) });
    if (!data.user) throw new OperationFailed('There is no user with this id.', 'NOT_FOUND');
    return data.user;
  }

  // ---- list ---------------------------------------------------------------------------------------
  router.get('/admin/users', adminOnly, async (ctx: Context) => {
    const { filter, values } = listFilter(ctx);
    const data = await gql.run(ctx, AdminUsersDocument, { ...paging(ctx, PAGE_SIZE), filter });
    render(ctx, 'admin/users-list.njk', {
      title: 'Users',
      users: data.users.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id) })),
      totalCount: data.users.totalCount,
      pageInfo: data.users.pageInfo,
      base: withoutPaging(ctx),
      values,
      filtered: Object.values(values).some(Boolean),
      roles: [{ value: '', label: 'Any role' }, ...ROLES],
      statuses: [
        { value: '', label: 'Any status' },
        { value: 'active', label: 'Active' },
        { value: 'disabled', label: 'Disabled' },
      ],
    });
  });

  // ---- create -------------------------------------------------------------------------------------
  const renderNew = (ctx: Context, values: Record<string, string>, errors: FieldErrors, status = 200) =>
    render(ctx, 'admin/users-new.njk', { title: 'New user', values, errors, roles: ROLES }, status);

  router.get('/admin/users/new', adminOnly, async (ctx: Context) => renderNew(ctx, { role: 'USER' }, {}));

  router.post('/admin/users', adminOnly, csrfProtect, async (ctx: Context) => {
    const body = form(ctx);
    const values = { username: text(body, 'username'), fullName: text(body, 'fullName'), email: text(body, 'email'), role: text(body, 'role') || 'USER' };
    const password = body.get('password') ?? '';
    if (values.role !== 'USER' && values.role !== 'ADMIN') return renderNew(ctx, values, { role: 'Choose a role.' }, 400);
    try {
      const data = await gql.run(ctx, AdminCreateUserDocument, {
        input: {
          username: values.username,
          fullName: values.fullName,
          email: values.email || null,
          role: values.role as Role,
          ...(password ? { password } : {}),
        },
      });
      const created = data.createUser;
      flash(ctx, `User ${created.user.username} created.`);
      if (created.generatedPassword) {
        showOnce(ctx, [{ label: `Password for ${created.user.username}`, value: created.generatedPassword, note: 'Give it to the user now: it is stored hashed and will not be shown again.' }]);
      }
      ctx.redirect(userPath(rawId(created.user.id)));
    } catch (err) {
      // Whatever was typed comes back, except the password.
      renderNew(ctx, values, fieldErrors(err), 400);
    }
  });

  // ---- detail and its lists -----------------------------------------------------------------------
  router.get('/admin/users/:id', adminOnly, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const data = await gql.run(ctx, AdminUserDetailDocument, { id: globalId('User', id) });
    if (!data.user) throw new OperationFailed('There is no user with this id.', 'NOT_FOUND');
    const user = data.user;
    render(ctx, 'admin/users-detail.njk', {
      title: user.username,
      u: { ...user, rawId: id, self: ctx.state.user?.id === id },
      tokens: data.tokens.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id), grantLabel: grantLabel(e.node.grantType) })),
      tokenCount: data.tokens.totalCount,
      authorizations: user.authorizations.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id), clientRawId: rawId(e.node.client.id) })),
      authorizationCount: user.authorizations.totalCount,
      connections: user.connections.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id) })),
      connectionCount: user.connections.totalCount,
      sessions: user.sessions.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id) })),
      sessionCount: user.sessions.totalCount,
      roles: ROLES,
    });
  });

  router.get('/admin/users/:id/authorizations', adminOnly, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const data = await gql.run(ctx, AdminUserAuthorizationsDocument, { id: globalId('User', id), ...paging(ctx, PAGE_SIZE) });
    if (!data.user) throw new OperationFailed('There is no user with this id.', 'NOT_FOUND');
    const list = data.user.authorizations;
    render(ctx, 'admin/users-authorizations.njk', {
      title: `Apps authorized by ${data.user.username}`,
      u: { ...data.user, rawId: id },
      authorizations: list.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id), clientRawId: rawId(e.node.client.id) })),
      authorizationCount: list.totalCount,
      pageInfo: list.pageInfo,
      base: withoutPaging(ctx),
    });
  });

  router.get('/admin/users/:id/connections', adminOnly, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const data = await gql.run(ctx, AdminUserConnectionsDocument, { id: globalId('User', id), ...paging(ctx, PAGE_SIZE) });
    if (!data.user) throw new OperationFailed('There is no user with this id.', 'NOT_FOUND');
    const list = data.user.connections;
    render(ctx, 'admin/users-connections.njk', {
      title: `Connections of ${data.user.username}`,
      u: { ...data.user, rawId: id },
      connections: list.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id) })),
      connectionCount: list.totalCount,
      pageInfo: list.pageInfo,
      base: withoutPaging(ctx),
    });
  });

  // ---- edit ---------------------------------------------------------------------------------------
  router.get('/admin/users/:id/edit', adminOnly, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const user = await loadBasics(ctx, id);
    render(ctx, 'admin/users-edit.njk', {
      title: `Edit ${user.username}`,
      u: { ...user, rawId: id },
      values: { username: user.username, fullName: user.fullName, email: user.email ?? '', emailVerified: user.emailVerified },
      errors: {},
    });
  });

  router.post('/admin/users/:id', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const body = form(ctx);
    const values = { username: text(body, 'username'), fullName: text(body, 'fullName'), email: text(body, 'email'), emailVerified: checked(body, 'emailVerified') };
    try {
      const data = await gql.run(ctx, AdminUpdateUserDocument, { id: globalId('User', id), input: values });
      flash(ctx, `User ${data.updateUser.user.username} saved.`);
      ctx.redirect(userPath(id));
    } catch (err) {
      const errors = fieldErrors(err);
      const user = await loadBasics(ctx, id);
      render(ctx, 'admin/users-edit.njk', { title: `Edit ${user.username}`, u: { ...user, rawId: id }, values, errors }, 400);
    }
  });

  // ---- one-button actions -------------------------------------------------------------------------
  /**
   * act() for an action on the user itself: back to their page with the message or the API's refusal;
   * to the list when the user is gone (their page would be a 404).
   */
  async function userAct(ctx: Context, id: string, run: () => Promise<string>): Promise<void> {
    let gone = false;
    await act(ctx, userPath(id), async () => {
      try {
        return await run();
      } catch (err) {
        gone = err instanceof OperationFailed && err.code === 'NOT_FOUND';
        throw err;
      }
    });
    if (gone) ctx.redirect('/admin/users');
  }

  router.post('/admin/users/:id/role', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const role = text(form(ctx), 'role');
    await userAct(ctx, id, async () => {
      if (role !== 'ADMIN' && role !== 'USER') throw new OperationFailed('Choose a role: User or Administrator.', 'BAD_USER_INPUT');
      const data = await gql.run(ctx, AdminSetUserRoleDocument, { id: globalId('User', id), role });
      return `${data.setUserRole.user.username} is now ${role === 'ADMIN' ? 'an administrator' : 'a user'}.`;
    });
  });

  router.post('/admin/users/:id/disable', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    await userAct(ctx, id, async () => {
      const { disableUser: d } = await gql.run(ctx, AdminDisableUserDocument, { id: globalId('User', id) });
      return `${d.user.username} is disabled: ${d.sessionsEnded} ${d.sessionsEnded === 1 ? 'session' : 'sessions'} ended, ${d.tokensRevoked} ${d.tokensRevoked === 1 ? 'token' : 'tokens'} revoked.`;
    });
  });

  router.post('/admin/users/:id/enable', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    await userAct(ctx, id, async () => {
      const data = await gql.run(ctx, AdminEnableUserDocument, { id: globalId('User', id) });
      return `${data.enableUser.user.username} can sign in again.`;
    });
  });

  router.post('/admin/users/:id/reset-password', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    await userAct(ctx, id, async () => {
      const { resetUserPassword: r } = await gql.run(ctx, AdminResetUserPasswordDocument, { id: globalId('User', id) });
      showOnce(ctx, [{ label: `New password for ${r.user.username}`, value: r.password, note: 'Give it to the user now: it is stored hashed and will not be shown again. Their browser sessions have ended.' }]);
      return `The password of ${r.user.username} was reset.`;
    });
  });

  router.post('/admin/users/:id/tokens/:tokenId/revoke', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const tokenId = idParam(ctx, 'tokenId');
    await act(ctx, userPath(id), async () => {
      const data = await gql.run(ctx, AdminRevokeUserTokenDocument, { id: globalId('Token', tokenId) });
      const n = data.revokeToken.tokensRevoked;
      return n > 1 ? `Token revoked, with ${n - 1} issued from it.` : 'Token revoked.';
    });
  });

  router.post('/admin/users/:id/authorizations/:uuid/revoke', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const authorizationId = idParam(ctx, 'uuid');
    await act(ctx, `${userPath(id)}/authorizations`, async () => {
      const { revokeAuthorization: r } = await gql.run(ctx, AdminRevokeUserAuthorizationDocument, { id: globalId('Authorization', authorizationId) });
      return `Access for ${r.authorization.client.name} withdrawn; ${r.tokensRevoked} ${r.tokensRevoked === 1 ? 'token' : 'tokens'} revoked.`;
    });
  });

  router.post('/admin/users/:id/connections/:connId/delete', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const connectionId = idParam(ctx, 'connId');
    await act(ctx, `${userPath(id)}/connections`, async () => {
      await gql.run(ctx, AdminUnlinkUserConnectionDocument, { id: globalId('OAuthConnection', connectionId) });
      return 'Connection unlinked.';
    });
  });

  router.post('/admin/users/:id/sessions/:sid/revoke', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const sessionId = idParam(ctx, 'sid');
    await act(ctx, userPath(id), async () => {
      await gql.run(ctx, AdminRevokeUserSessionDocument, { id: globalId('Session', sessionId) });
      return 'Browser session signed out.';
    });
  });

  // ---- delete -------------------------------------------------------------------------------------
  router.get('/admin/users/:id/delete', adminOnly, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    const user = await loadBasics(ctx, id);
    render(ctx, 'admin/users-delete.njk', { title: `Delete ${user.username}`, u: { ...user, rawId: id, self: ctx.state.user?.id === id } });
  });

  router.post('/admin/users/:id/delete', adminOnly, csrfProtect, async (ctx: Context) => {
    const id = idParam(ctx, 'id');
    try {
      const user = await loadBasics(ctx, id);
      await gql.run(ctx, AdminDeleteUserDocument, { id: globalId('User', id) });
      flash(ctx, `User ${user.username} deleted, with their tokens, sessions, authorizations and connections.`);
      ctx.redirect('/admin/users');
    } catch (err) {
      // The API's refusal (yourself, the last administrator, already gone) on the user's page.
      if (!(err instanceof OperationFailed) || !['CONFLICT', 'NOT_FOUND'].includes(err.code)) throw err;
      flash(ctx, err.message, 'error');
      ctx.redirect(err.code === 'NOT_FOUND' ? '/admin/users' : userPath(id));
    }
  });
}
