// Who may use an admin-only download (the audit export): an administrator signed in with a cookie
// session, or a Bearer access token carrying admin rights. A refused caller gets a readable answer:
// a page for a browser, RFC 6750 JSON and WWW-Authenticate for a Bearer caller.
import type { Context } from 'koa';
import { InvalidToken } from '../domain/errors.js';
import { ADMIN_SCOPE, bearerViewer, cookieViewer } from '../graphql/context.js';
import type { TokenService } from '../services/tokens.js';
import type { AdminGate } from './audit-export.js';
import type { Renderer } from './render.js';

export function adminGate(deps: { tokens: TokenService; render: Renderer }): AdminGate {
  return async function requireAdmin(ctx) {
    const bearer = /^Bearer[ ]+(\S+)$/i.exec(ctx.get('authorization'))?.[1];
    if (bearer) return bearerIsAdmin(ctx, deps.tokens, bearer);
    const user = ctx.state.user;
    if (user && cookieViewer(user).isAdmin) return true;
    deps.render(
      ctx,
      'error.njk',
      user
        ? { title: 'Not allowed', message: 'Only administrators can export the audit log.' }
        : { title: 'Sign in required', message: 'Sign in as an administrator to export the audit log.' },
      user ? 403 : 401,
    );
    return false;
  };
}

async function bearerIsAdmin(ctx: Context, tokens: TokenService, value: string): Promise<boolean> {
  let viewer;
  try {
    viewer = bearerViewer((await tokens.validateAccessToken(value)).token);
  } catch (err) {
    if (!(err instanceof InvalidToken)) throw err;
    ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${err.description}"`);
    sendError(ctx, 401, 'invalid_token', err.description);
    return false;
  }
  // The same rule as the GraphQL API: admin role (or admin service account) and the admin scope.
  if (viewer.isAdmin) return true;
  ctx.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${ADMIN_SCOPE}"`);
  sendError(ctx, 403, 'insufficient_scope', 'an administrator token with the admin scope is required');
  return false;
}

function sendError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error, error_description: description };
}
