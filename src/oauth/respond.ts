// The protocol face's wire format: JSON, never cached (RFC 6749 §5.1), and RFC 6749 §5.2 errors.
import type { Context, Next } from 'koa';
import { OAuthError, SlowDown } from '../domain/errors.js';
import { BadRequestBody } from '../http/body.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';

export function sendJson(ctx: Context, body: unknown, status = 200): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.body = body;
}

/** Maps every error thrown below it to RFC error JSON; nothing reaches the client as a stack trace. */
export function oauthErrors(logger: Logger) {
  return async function oauthErrorsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      if (err instanceof OAuthError) {
        if (err.status === 401 && err.error === 'invalid_client') ctx.set('WWW-Authenticate', 'Basic realm="authgate", charset="UTF-8"');
        if (err.status === 401 && err.error === 'invalid_token') ctx.set('WWW-Authenticate', `Bearer error="invalid_token", error_description="${err.description}"`);
        // slow_down also says how long to wait (Retry-After) and the new interval, so a client that
        // missed an earlier slow_down can catch up instead of staying one step behind forever.
        if (err instanceof SlowDown) ctx.set('Retry-After', String(err.interval));
        const extra = err instanceof SlowDown ? { interval: err.interval } : {};
        sendJson(ctx, { error: err.error, error_description: err.description, ...extra }, err.status);
        return;
      }
      if (err instanceof BadRequestBody) {
        sendJson(ctx, { error: 'invalid_request', error_description: err.message }, err.status);
        return;
      }
      logger.error('unhandled error on protocol endpoint', { path: ctx.path, ...errorFields(err) });
      sendJson(ctx, { error: 'server_error', error_description: 'the server could not handle the request' }, 500);
    }
  };
}

/**
 * What the router did not answer, in this face's JSON: 404 for an unknown path, and the 405 (with
 * `Allow`) or 501 that the router's allowedMethods() set for a known path asked with the wrong method.
 * Placed before the router so it runs after allowedMethods() has decided.
 */
export async function protocolUnrouted(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 404) sendJson(ctx, { error: 'not_found', error_description: `no endpoint at ${ctx.path}` }, 404);
  else if (ctx.status === 405) sendJson(ctx, { error: 'invalid_request', error_description: `${ctx.method} is not allowed at ${ctx.path}; use ${ctx.response.get('Allow')}` }, 405);
  else if (ctx.status === 501) sendJson(ctx, { error: 'invalid_request', error_description: `the ${ctx.method} method is not supported` }, 501);
}
