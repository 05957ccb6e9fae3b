// The HTML face's error rendering: a readable page with the right status, never a stack trace. A 5xx
// page shows the request id, so a person can quote it and an operator can find the request's log lines.
import type { Context, Next } from 'koa';
import { BadInput, Forbidden, NotFound, OAuthError, TemporarilyUnavailable } from '../domain/errors.js';
import { OperationFailed } from '../graphql/in-process.js';
import { BadRequestBody } from '../http/body.js';
import { requestLogger } from '../http/request-log.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
import type { Renderer } from './render.js';

export function pageErrors(render: Renderer, logger: Logger) {
  return async function pageErrorsMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      const [status, title, message] = describe(err);
      if (err instanceof TemporarilyUnavailable) ctx.set('Retry-After', String(err.retryAfter));
      if (err instanceof OperationFailed && err.retryAfter !== undefined) ctx.set('Retry-After', String(err.retryAfter));
      if (status === 500) requestLogger(ctx, logger).error('unhandled error on page', { path: ctx.path, ...errorFields(err) });
      render(ctx, 'error.njk', { title, message, requestId: status >= 500 ? ctx.state.requestId : undefined, flash: null }, status);
    }
  };
}

function describe(err: unknown): [number, string, string] {
  if (err instanceof BadRequestBody) return [err.status, 'Bad request', err.message];
  if (err instanceof OperationFailed) return describeOperation(err);
  if (err instanceof BadInput) return [400, 'Bad request', err.message];
  if (err instanceof TemporarilyUnavailable) return [503, 'Temporarily unavailable', err.message];
  if (err instanceof OAuthError) return [400, 'Request refused', err.description];
  if (err instanceof Forbidden) return [403, 'Not allowed', err.message];
  if (err instanceof NotFound) return [404, 'Not found', err.message];
  return [500, 'Something went wrong', 'The server could not handle this request. Please try again later.'];
}

/** A refusal from the GraphQL API that a page could not turn into a form message. */
function describeOperation(err: OperationFailed): [number, string, string] {
  switch (err.code) {
    case 'NOT_FOUND':
      return [404, 'Not found', err.message];
    case 'FORBIDDEN':
      return [403, 'Not allowed', err.message];
    case 'UNAUTHENTICATED':
      return [401, 'Sign in required', err.message];
    case 'CONFLICT':
      return [409, 'Not possible', err.message];
    case 'TOO_MANY_ATTEMPTS':
      return [429, 'Too many attempts', err.message];
    case 'UNAVAILABLE':
      return [503, 'Temporarily unavailable', err.message];
    default:
      return [400, 'Bad request', err.message];
  }
}

/**
 * What the router did not answer, as a page: 404 for an unknown path, and the 405 (with `Allow`) or
 * 501 that the router's allowedMethods() set for a known path asked with the wrong method. Placed
 * before the router so it runs after allowedMethods() has decided.
 */
export function pageUnrouted(render: Renderer) {
  return async function pageUnroutedMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    if (ctx.status === 404) render(ctx, 'error.njk', { title: 'Page not found', message: 'There is nothing at this address.' }, 404);
    else if (ctx.status === 405) render(ctx, 'error.njk', { title: 'Method not allowed', message: `This address does not accept ${ctx.method} requests.` }, 405);
    else if (ctx.status === 501) render(ctx, 'error.njk', { title: 'Not implemented', message: `The ${ctx.method} method is not supported.` }, 501);
  };
}
