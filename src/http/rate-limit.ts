// Request rate limits per client address for unauthenticated endpoints that create rows (device
// authorization requests, open client registration), with koa-ratelimit: in memory for one instance,
// in Redis when REDIS_URL is set so the limit holds across instances. A limited request gets 429 with
// Retry-After and an RFC 6749-style error body.
import type { Context, Middleware, Next } from 'koa';
import ratelimit from 'koa-ratelimit';
import type { Redis } from 'ioredis';

export function rateLimit(opts: { name: string; max: number; durationMs: number; redis?: Redis; keyPrefix: string }): Middleware {
  if (opts.max === 0) return (_ctx: Context, next: Next) => next();
  const common = {
    duration: opts.durationMs,
    max: opts.max,
    id: (ctx: Context) => `${opts.keyPrefix}ratelimit:${opts.name}:${ctx.ip}`,
    errorMessage: JSON.stringify({ error: 'temporarily_unavailable', error_description: 'too many requests from this address; retry later' }),
  };
  const limiter = opts.redis
    ? ratelimit({ ...common, driver: 'redis', db: opts.redis })
    : ratelimit({ ...common, driver: 'memory', db: new Map() });
  return async function rateLimitMiddleware(ctx: Context, next: Next): Promise<void> {
    await limiter(ctx, next);
    if (ctx.status === 429 && ctx.state.rateLimit) {
      ctx.type = 'application/json';
      ctx.set('Cache-Control', 'no-store');
    }
  };
}
