// The protocol face's wire format: JSON, never cached (RFC 6749 §5.1), and RFC 6749 §5.2 errors.
import type { Context, Next } from 'koa';
import { AuthorizationPending, OAuthError, SlowDown, TemporarilyUnavailable } from '../domain/errors.js';
import { BadRequestBody } from '../http/body.js';
import { requestLogger } from '../http/request-log.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';

export function sendJson(ctx: Context, body: unknown, status = 200): void {
  ctx.status = status;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
  ctx.body = body;
}

/**
 * Maps every error thrown below it to RFC error JSON; nothing reaches the client as a stack trace.
 * Each error answer is logged (with the request id), the unexpected ones with their stack.
 */
export function oauthErrors(logger: Logger) {
  return async function oauthErrorsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const log = requestLogger(ctx, logger);
      if (err instanceof TemporarilyUnavailable) {
        // RFC 6749 §4.1.2.1 names the condition; 503 with Retry-After says it for HTTP.
        log.warn('protocol error answered', { path: ctx.path, error: 'temporarily_unavailable', status: 503, error_description: err.message });
        ctx.set('Retry-After', String(err.retryAfter));
        sendJson(ctx, { error: 'temporarily_unavailable', error_description: err.message }, 503);
        return;
      }
      if (err instanceof OAuthError) {
        // Polling answers are routine (one every few seconds per waiting device): debug, not info.
        const routine = err instanceof AuthorizationPending || err instanceof SlowDown;
        log[routine ? 'debug' : 'info']('protocol error answered', { path: ctx.path, error: err.error, status: err.status, error_description: err.description });
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
        log.info('protocol error answered', { path: ctx.path, error: 'invalid_request', status: err.status, error_description: err.message });
        sendJson(ctx, { error: 'invalid_request', error_description: err.message }, err.status);
        return;
      }
      log.error('unhandled error on protocol endpoint', { path: ctx.path, ...errorFields(err) });
      const id = ctx.state.requestId ? ` (request id ${ctx.state.requestId})` : '';
      sendJson(ctx, { error: 'server_error', error_description: `the server could not handle the request${id}` }, 500);
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
