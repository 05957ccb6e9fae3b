// /admin/tokens: every issued token, newest first, filtered by category, status, user and client
// (the user and client as raw ids, e.g. from a link on a user's or client's page), with one-button
// disable, enable and revoke. The API decides what is allowed: a revoked token cannot be enabled
// again (CONFLICT), and that refusal is what the person sees.
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  AdminDisableTokenDocument,
  AdminEnableTokenDocument,
  AdminRevokeTokenDocument,
  AdminTokenFilterChoicesDocument,
  AdminTokensDocument,
  type TokenCategory,
  type TokenFilter,
  type TokenStatus,
} from '../generated/graphql.js';
import { act, adminOnly, csrfProtect, globalId, paging, rawId, withoutPaging, type FieldErrors, type PageDeps } from './kit.js';

const PAGE_SIZE = 25;
const CATEGORIES: TokenCategory[] = ['ACCESS', 'REFRESH'];
const STATUSES: TokenStatus[] = ['ACTIVE', 'DISABLED', 'REVOKED'];
/** Database ids are UUIDs or similar: letters, digits and a few separators. */
const RAW_ID = /^[A-Za-z0-9_-]{1,100}$/;

interface TokenQuery {
  category: string;
  status: string;
  user: string;
  client: string;
}

function one(ctx: Context, name: string): string {
  const raw = ctx.query[name];
  return (Array.isArray(raw) ? raw[0] : raw)?.trim() ?? '';
}

/** The filter from the query string; a value it cannot use is left out and reported next to its field. */
function filterFrom(ctx: Context): { values: TokenQuery; filter: TokenFilter; errors: FieldErrors } {
  const values: TokenQuery = { category: one(ctx, 'category').toUpperCase(), status: one(ctx, 'status').toUpperCase(), user: one(ctx, 'user'), client: one(ctx, 'client') };
  const filter: TokenFilter = {};
  const errors: FieldErrors = {};
  if (values.category) {
    if ((CATEGORIES as string[]).includes(values.category)) filter.category = values.category as TokenCategory;
    else errors.category = `Unknown category "${values.category}": choose access or refresh.`;
  }
  if (values.status) {
    if ((STATUSES as string[]).includes(values.status)) filter.status = values.status as TokenStatus;
    else errors.status = `Unknown status "${values.status}": choose active, disabled or revoked.`;
  }
  if (values.user) {
    if (RAW_ID.test(values.user)) filter.userId = globalId('User', values.user);
    else errors.user = 'This is not a user id.';
  }
  if (values.client) {
    if (RAW_ID.test(values.client)) filter.clientId = globalId('Client', values.client);
    else errors.client = 'This is not a client id.';
  }
  return { values, filter, errors };
}

export function adminTokenRoutes(router: Router, deps: PageDeps): void {
  router.get('/admin/tokens', adminOnly, async (ctx: Context) => {
    const { values, filter, errors } = filterFrom(ctx);
    const [{ tokens }, choices] = await Promise.all([
      deps.gql.run(ctx, AdminTokensDocument, { ...paging(ctx, PAGE_SIZE), filter }),
      deps.gql.run(ctx, AdminTokenFilterChoicesDocument, {}),
    ]);

    const users = choices.users.edges.map((e) => ({ value: rawId(e.node.id), label: e.node.username }));
    const clients = choices.clients.edges.map((e) => ({ value: rawId(e.node.id), label: `${e.node.name} (${e.node.clientId})` }));
    // A user or client beyond the first hundred, chosen through a link, still shows as selected.
    const rows = tokens.edges.map((e) => e.node);
    if (filter.userId && !users.some((u) => u.value === values.user)) {
      users.push({ value: values.user, label: rows.find((t) => t.user && rawId(t.user.id) === values.user)?.user?.username ?? `user ${values.user}` });
    }
    if (filter.clientId && !clients.some((c) => c.value === values.client)) {
      const client = rows.find((t) => rawId(t.client.id) === values.client)?.client;
      clients.push({ value: values.client, label: client ? `${client.name} (${client.clientId})` : `client ${values.client}` });
    }

    const here = ctx.originalUrl;
    deps.render(
      ctx,
      'admin/tokens.njk',
      {
        title: 'Tokens',
        values,
        errors,
        hasFilter: Object.keys(filter).length > 0,
        categories: [{ value: '', label: 'Any' }, ...CATEGORIES.map((c) => ({ value: c, label: c.toLowerCase() }))],
        statuses: [{ value: '', label: 'Any' }, ...STATUSES.map((s) => ({ value: s, label: s.toLowerCase() }))],
        users: [{ value: '', label: 'Any user' }, ...users],
        clients: [{ value: '', label: 'Any client' }, ...clients],
        tokens: rows.map((t) => ({
          ...t,
          rawId: rawId(t.id),
          userRawId: t.user ? rawId(t.user.id) : null,
          clientRawId: rawId(t.client.id),
          expired: t.status === 'ACTIVE' && !t.usable,
        })),
        totalCount: tokens.totalCount,
        pageInfo: tokens.pageInfo,
        base: withoutPaging(ctx),
        back: here,
      },
      Object.keys(errors).length > 0 ? 400 : 200,
    );
  });

  const action = (path: string, run: (ctx: Context, id: string) => Promise<string>) =>
    router.post(`/admin/tokens/:id/${path}`, adminOnly, csrfProtect, async (ctx: Context) => {
      await act(ctx, '/admin/tokens', () => run(ctx, globalId('Token', ctx.params.id!)));
    });

  action('disable', async (ctx, id) => {
    await deps.gql.run(ctx, AdminDisableTokenDocument, { id });
    return 'Token disabled: it does not work until it is enabled again.';
  });
  action('enable', async (ctx, id) => {
    await deps.gql.run(ctx, AdminEnableTokenDocument, { id });
    return 'Token enabled.';
  });
  action('revoke', async (ctx, id) => {
    const { revokeToken } = await deps.gql.run(ctx, AdminRevokeTokenDocument, { id });
    const n = revokeToken.tokensRevoked;
    return n > 1 ? `Token revoked, with ${n - 1} token${n === 2 ? '' : 's'} issued from it.` : 'Token revoked.';
  });
}
