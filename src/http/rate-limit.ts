// Request rate limits per client address for unauthenticated endpoints that create rows (device
// authorization requests, open client registration), on the same counters as the guessing limits
// (rate-limiter-flexible: in memory for one instance, in Redis when REDIS_URL is set so the limit
// holds across instances). A limited request gets 429 with Retry-After and an RFC 6749-style error
// body. When the store is down, the limiter's fail-open/closed policy applies: a refusal is thrown as
// TemporarilyUnavailable and rendered by the face's error middleware (503), never a 500.
import type { Context, Middleware, Next } from 'koa';
import type { WindowLimiter } from '../ops/attempt-limiter.js';

/** `limiter` undefined = no limit (configured as 0, or trusted callers). `page`: answer in plain text, for forms people submit. */
export function rateLimit(limiter: WindowLimiter | undefined, opts: { page?: boolean } = {}): Middleware {
  if (!limiter) return (_ctx: Context, next: Next) => next();
  return async function rateLimitMiddleware(ctx: Context, next: Next): Promise<void> {
    const counted = await limiter.consume(ctx.ip);
    if (!counted.allowed) {
      ctx.status = 429;
      ctx.set('Retry-After', String(counted.retryAfter));
      ctx.set('Cache-Control', 'no-store');
      if (opts.page) {
        ctx.type = 'text/plain';
        ctx.body = `Too many requests from this address; try again in ${counted.retryAfter} seconds.`;
      } else {
        ctx.body = { error: 'temporarily_unavailable', error_description: 'too many requests from this address; retry later' };
      }
      return;
    }
    await next();
  };
}
