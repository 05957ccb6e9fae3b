// The account pages: what a signed-in person holds here and how to end it. Their tokens (grouped by
// app and by sign-in), the apps they let in, the browsers they are signed in on, and their password.
// Everything goes through the GraphQL API as the viewer (see kit.ts); this module only translates.
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  AccountAuthorizationDocument,
  AccountAuthorizationsDocument,
  AccountBrowserSessionDocument,
  AccountBrowserSessionsDocument,
  AccountChangePasswordDocument,
  AccountPasswordDocument,
  AccountRevokeAuthorizationDocument,
  AccountRevokeBrowserSessionDocument,
  AccountRevokeOtherBrowserSessionsDocument,
  AccountRevokeTokenDocument,
  AccountRevokeTokensDocument,
  AccountTokensDocument,
  type AccountTokensQuery,
} from '../generated/graphql.js';
import { describeScopes } from '../../domain/scope-descriptions.js';
import { describeWait } from '../wait.js';
import { act, csrfProtect, fieldErrors, flash, form, globalId, OperationFailed, paging, rawId, requireUser, text, withoutPaging, type FieldErrors, type PageDeps } from './kit.js';

const SESSIONS = '/account/sessions';
const AUTHORIZATIONS = '/account/authorizations';
const BROWSER_SESSIONS = '/account/browser-sessions';
const PASSWORD = '/account/password';

/** Tokens per page: enough that one page holds everything a person normally has. */
const TOKENS_PAGE = 100;
const LIST_PAGE = 50;

export function accountRoutes(router: Router, deps: PageDeps): void {
  const { gql, render } = deps;

  router.get('/account', requireUser(), (ctx: Context) => ctx.redirect(SESSIONS));

  // --- Tokens ("sessions" in AuthGate's words): by app, then by sign-in (one token family each).

  router.get(SESSIONS, requireUser(), async (ctx: Context) => {
    const data = await gql.run(ctx, AccountTokensDocument, paging(ctx, TOKENS_PAGE));
    const tokens = data.viewer!.tokens;
    render(ctx, 'account/sessions.njk', {
      title: 'Active sessions',
      clients: groupTokens(tokens.edges.map((e) => e.node)),
      totalCount: tokens.totalCount,
      shown: tokens.edges.length,
      pageInfo: tokens.pageInfo,
      base: withoutPaging(ctx),
    });
  });

  router.post(`${SESSIONS}/revoke-all`, requireUser({ formPage: SESSIONS }), csrfProtect, async (ctx: Context) => {
    await act(ctx, SESSIONS, async () => {
      const client = text(form(ctx), 'client');
      const name = text(form(ctx), 'clientName');
      const { revokeMyTokens } = await gql.run(ctx, AccountRevokeTokensDocument, client ? { clientId: globalId('Client', client) } : {});
      const n = plural(revokeMyTokens.tokensRevoked, 'token');
      return client ? `Revoked ${n}${name ? ` of ${name}` : ''}.` : `Revoked ${n}. Your apps stay authorized; they will ask you to sign in again.`;
    });
  });

  router.post(`${SESSIONS}/:id/revoke`, requireUser({ formPage: SESSIONS }), csrfProtect, async (ctx: Context) => {
    await act(ctx, SESSIONS, async () => {
      const { revokeMyToken } = await gql.run(ctx, AccountRevokeTokenDocument, { id: globalId('Token', param(ctx, 'id')) });
      const what = revokeMyToken.token.category === 'REFRESH' ? 'Refresh token' : 'Access token';
      // Posted twice (a second tab, a double click): nothing left to end, and no reason to alarm.
      if (revokeMyToken.tokensRevoked === 0) return `That ${what.toLowerCase()} had already stopped working.`;
      const more = revokeMyToken.tokensRevoked > 1 ? ` with the ${plural(revokeMyToken.tokensRevoked - 1, 'token')} issued from it` : '';
      return `${what} of ${revokeMyToken.token.client.name} revoked${more}.`;
    });
  });

  // --- Apps the person let in (consent page or device approval).

  router.get(AUTHORIZATIONS, requireUser(), async (ctx: Context) => {
    const data = await gql.run(ctx, AccountAuthorizationsDocument, paging(ctx, LIST_PAGE));
    const authorizations = data.viewer!.authorizations;
    render(ctx, 'account/authorizations.njk', {
      title: 'Authorized apps',
      authorizations: authorizations.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id) })),
      totalCount: authorizations.totalCount,
      pageInfo: authorizations.pageInfo,
      base: withoutPaging(ctx),
    });
  });

  // The confirmation before revoking: what the app will lose. Works without script.
  router.get(`${AUTHORIZATIONS}/:id/revoke`, requireUser(), async (ctx: Context) => {
    const missing = new OperationFailed('There is no such authorization among the apps you let in.', 'NOT_FOUND');
    const data = await gql.run(ctx, AccountAuthorizationDocument, { id: globalId('Authorization', param(ctx, 'id')) }).catch((err: unknown) => {
      throw err instanceof OperationFailed && err.code === 'NOT_FOUND' ? missing : err;
    });
    const node = data.node;
    // node(id) gives an administrator anyone's authorization; this page is about the viewer's own.
    if (!node || !('scopes' in node) || node.user.id !== data.viewer!.id || node.revokedAt) throw missing;
    render(ctx, 'account/authorization-revoke.njk', {
      title: `Revoke ${node.client.name}`,
      authorization: { ...node, rawId: param(ctx, 'id') },
      scopes: describeScopes(node.scopes),
    });
  });

  router.post(`${AUTHORIZATIONS}/:id/revoke`, requireUser({ formPage: AUTHORIZATIONS }), csrfProtect, async (ctx: Context) => {
    await act(ctx, AUTHORIZATIONS, async () => {
      const { revokeMyAuthorization } = await gql.run(ctx, AccountRevokeAuthorizationDocument, { id: globalId('Authorization', param(ctx, 'id')) });
      const name = revokeMyAuthorization.authorization.client.name;
      return `${name} can no longer act for you; ${plural(revokeMyAuthorization.tokensRevoked, 'token')} revoked. It must ask again to get back in.`;
    });
  });

  // --- Browser sessions: where the person is signed in to these pages.

  router.get(BROWSER_SESSIONS, requireUser(), async (ctx: Context) => {
    const data = await gql.run(ctx, AccountBrowserSessionsDocument, paging(ctx, LIST_PAGE));
    const sessions = data.viewer!.sessions;
    render(ctx, 'account/browser-sessions.njk', {
      title: 'Browser sessions',
      sessions: sessions.edges.map((e) => ({ ...e.node, rawId: rawId(e.node.id), agent: describeAgent(e.node.userAgent) })),
      totalCount: sessions.totalCount,
      pageInfo: sessions.pageInfo,
      base: withoutPaging(ctx),
    });
  });

  router.post(`${BROWSER_SESSIONS}/revoke-others`, requireUser({ formPage: BROWSER_SESSIONS }), csrfProtect, async (ctx: Context) => {
    await act(ctx, BROWSER_SESSIONS, async () => {
      const { revokeMyOtherSessions } = await gql.run(ctx, AccountRevokeOtherBrowserSessionsDocument);
      const n = revokeMyOtherSessions.sessionsEnded;
      return n === 0 ? 'You were not signed in on any other browser.' : `Signed out ${plural(n, 'other browser session')}.`;
    });
  });

  router.post(`${BROWSER_SESSIONS}/:id/revoke`, requireUser({ formPage: BROWSER_SESSIONS }), csrfProtect, async (ctx: Context) => {
    const id = globalId('Session', param(ctx, 'id'));
    let endedThisOne = false;
    await act(ctx, BROWSER_SESSIONS, async () => {
      const { node } = await gql.run(ctx, AccountBrowserSessionDocument, { id });
      if (!node || !('current' in node)) throw new OperationFailed('That browser session has already ended.', 'NOT_FOUND');
      await gql.run(ctx, AccountRevokeBrowserSessionDocument, { id });
      endedThisOne = node.current;
      return 'That browser is signed out.';
    });
    // The page offers "Sign out" for this browser; should its own session be ended here anyway, the
    // person is signed out, as with /logout.
    if (endedThisOne) {
      ctx.session = null;
      ctx.redirect('/login');
    }
  });

  // --- Password (local accounts).

  const passwordPage = async (ctx: Context, errors: FieldErrors = {}, status = 200) => {
    const { viewer } = await gql.run(ctx, AccountPasswordDocument);
    const user = viewer!.user;
    render(ctx, 'account/password.njk', { title: 'Password', local: user?.authSource === 'local' && user.hasPassword, authSource: user?.authSource, errors }, status);
  };

  router.get(PASSWORD, requireUser(), (ctx: Context) => passwordPage(ctx));

  router.post(PASSWORD, requireUser({ formPage: PASSWORD }), csrfProtect, async (ctx: Context) => {
    const body = form(ctx);
    // Passwords are taken as typed (spaces are allowed in them), never trimmed, and never sent back.
    const currentPassword = body.get('currentPassword') ?? '';
    const newPassword = body.get('newPassword') ?? '';
    const confirmPassword = body.get('confirmPassword') ?? '';
    const errors: FieldErrors = {};
    if (!currentPassword) errors.currentPassword = 'Enter your current password.';
    if (!newPassword) errors.newPassword = 'Enter a new password.';
    else if (confirmPassword !== newPassword) errors.confirmPassword = 'This does not match the new password.';
    if (Object.keys(errors).length > 0) return passwordPage(ctx, errors, 400);
    try {
      const { changeMyPassword } = await gql.run(ctx, AccountChangePasswordDocument, { input: { currentPassword, newPassword } });
      const ended = changeMyPassword.sessionsEnded;
      flash(ctx, ended > 0 ? `Password changed. ${plural(ended, 'other browser session')} signed out.` : 'Password changed.');
      ctx.redirect(PASSWORD);
    } catch (err) {
      if (err instanceof OperationFailed && err.code === 'TOO_MANY_ATTEMPTS') {
        const wait = err.retryAfter ?? 60;
        ctx.set('Retry-After', String(wait));
        return passwordPage(ctx, { currentPassword: `Too many wrong passwords. Try again in ${describeWait(wait)}.` }, 429);
      }
      await passwordPage(ctx, fieldErrors(err), 400);
    }
  });
}

function param(ctx: Context, name: string): string {
  return String((ctx.params as Record<string, string>)[name] ?? '');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

type TokenNode = NonNullable<AccountTokensQuery['viewer']>['tokens']['edges'][number]['node'];

interface SignIn {
  familyId: string;
  /** How the sign-in was made: the grant of its oldest token still working. */
  grant: string;
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string;
  /** The refresh token to revoke to end the whole sign-in (it takes its family along). */
  refreshTokenId: string | null;
  tokens: (TokenNode & { rawId: string })[];
}

interface ClientTokens {
  client: TokenNode['client'] & { rawId: string };
  signIns: SignIn[];
  tokenCount: number;
}

const GRANTS: Record<string, string> = {
  authorization_code: 'Browser sign-in',
  'urn:ietf:params:oauth:grant-type:device_code': 'Device code',
  refresh_token: 'Renewed sign-in',
  client_credentials: 'Client credentials',
};

/**
 * Tokens by app, then by sign-in: the tokens of one family come from one original grant, which is
 * one sign-in on one device. Order follows the tokens' (newest first): the most recent app and
 * sign-in come first.
 */
export function groupTokens(tokens: TokenNode[]): ClientTokens[] {
  const clients = new Map<string, ClientTokens>();
  for (const token of tokens) {
    let group = clients.get(token.client.id);
    if (!group) clients.set(token.client.id, (group = { client: { ...token.client, rawId: rawId(token.client.id) }, signIns: [], tokenCount: 0 }));
    group.tokenCount++;
    let signIn = group.signIns.find((s) => s.familyId === token.familyId);
    if (!signIn) {
      signIn = { familyId: token.familyId, grant: '', scopes: [], createdAt: token.createdAt, lastUsedAt: null, expiresAt: token.expiresAt, refreshTokenId: null, tokens: [] };
      group.signIns.push(signIn);
    }
    signIn.tokens.push({ ...token, rawId: rawId(token.id) });
    // Newest first, so the last one seen is the oldest: it says how the sign-in was made.
    signIn.createdAt = token.createdAt;
    signIn.grant = GRANTS[token.grantType] ?? token.grantType;
    for (const scope of token.scopes) if (!signIn.scopes.includes(scope)) signIn.scopes.push(scope);
    if (token.lastUsedAt && (!signIn.lastUsedAt || token.lastUsedAt > signIn.lastUsedAt)) signIn.lastUsedAt = token.lastUsedAt;
    if (token.expiresAt > signIn.expiresAt) signIn.expiresAt = token.expiresAt;
    if (token.category === 'REFRESH' && !signIn.refreshTokenId) signIn.refreshTokenId = rawId(token.id);
  }
  // Within a sign-in, the refresh token (what keeps it going) before the access tokens it issued.
  for (const group of clients.values()) for (const signIn of group.signIns) signIn.tokens.sort((a, b) => (a.category === b.category ? 0 : a.category === 'REFRESH' ? -1 : 1));
  return [...clients.values()];
}

/** "Firefox on Linux" from a User-Agent header, for people; the full header is shown beside it. */
export function describeAgent(userAgent: string | null): string {
  if (!userAgent) return 'Unknown browser';
  const ua = userAgent;
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /HeadlessChrome\//.test(ua)
          ? 'Headless Chrome'
          : /Chrom(e|ium)\//.test(ua)
            ? 'Chrome'
            : /Safari\//.test(ua) && /Version\//.test(ua)
              ? 'Safari'
              : /^curl\//.test(ua)
                ? 'curl'
                : null;
  const os = /Android/.test(ua)
    ? 'Android'
    : /iPhone|iPad|iPod/.test(ua)
      ? 'iOS'
      : /Windows/.test(ua)
        ? 'Windows'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /CrOS/.test(ua)
            ? 'ChromeOS'
            : /Linux/.test(ua)
              ? 'Linux'
              : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? (ua.length > 40 ? `${ua.slice(0, 40)}…` : ua);
}
