// Follows one request through the logs: a request id (the caller's X-Request-Id when it is sane, so a
// proxy's id carries through; otherwise a new one), echoed in the response header, bound to a child
// logger on ctx.state.log for every line logged while handling the request, and one access-log line
// when it ends. The access line never carries the query string or the body: both can hold
// credentials (codes, tokens, passwords).
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../ops/logger.js';

declare module 'koa' {
  interface DefaultState {
    requestId?: string;
    /** The request's logger: every line carries its request_id. */
    log?: Logger;
  }
}

// Printable, header-safe and short: anything else (log injection, megabyte ids) is replaced.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export function requestLog(logger: Logger) {
  return async function requestLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    const incoming = ctx.get('x-request-id');
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.state.log = logger.child({ request_id: requestId });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      // Route patterns (/oauth/token) rather than paths where the router matched one: fewer distinct values.
      const route = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
      // Load balancers poll /health every few seconds: those lines only at debug.
      const level = ctx.path === '/health' ? 'debug' : 'info';
      if (ctx.state.log.enabled(level)) {
        ctx.state.log[level]('request', {
          method: ctx.method,
          path: ctx.path,
          ...(typeof route === 'string' ? { route } : {}),
          status: ctx.status,
          duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        });
      }
    }
  };
}

/** The request's logger, or `fallback` outside a request. */
export function requestLogger(ctx: Context, fallback: Logger): Logger {
  return ctx.state.log ?? fallback;
}
