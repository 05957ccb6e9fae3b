// Per-endpoint request limits (AuthGate's LOGIN_RATE_LIMIT, DEVICE_CODE_RATE_LIMIT, TOKEN_RATE_LIMIT,
// DEVICE_VERIFY_RATE_LIMIT, INTROSPECT_RATE_LIMIT, DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT) with
// koa-ratelimit: in memory for one instance, in Redis when Redis is configured, so every instance
// counts against one budget. In Redis, koa-ratelimit (async-ratelimiter) counts in a sliding window
// with one Lua script per request: the check and the count are one atomic step, so two instances
// racing cannot both take the last request, and a refused request does not extend the wait.
//
// These count requests, whatever their outcome. They sit beside the guessing limits
// (ops/attempt-limiter.ts: failed sign-ins and user codes per account and per address), which
// count failures and stay on when ENABLE_RATE_LIMIT=false.
//
// A refused request gets 429, Retry-After (whole seconds, at least 1) and the face's own answer (RFC
// 6749-style JSON on /oauth/*, a page on HTML routes); X-RateLimit-Limit/-Remaining/-Reset (epoch
// seconds) are on every limited endpoint's answers. Each refusal is counted in
// `rate_limit_hits_total{limit}` and audited as RATE_LIMIT_EXCEEDED, at most once per key and window
// (the first refusal; in Redis, once across all instances), so a flood cannot flood the audit log.
//
// When Redis cannot be reached, RATE_LIMIT_FAIL_CLOSED decides as for the guessing limits: the
// request goes ahead (fail open, logged and counted) or is refused with 503 (fail closed).
import type { Redis } from 'ioredis';
import type { Context, Middleware, Next } from 'koa';
import ratelimit from 'koa-ratelimit';
import { limitAddress } from '../domain/addresses.js';
import type { LimitStore } from '../ops/attempt-limiter.js';
import type { Metrics } from '../ops/metrics.js';
import type { AuditLog } from '../services/audit.js';
import { requestInfo } from './request-info.js';

export type LimitName = 'login' | 'device_code' | 'token' | 'device_verify' | 'introspect' | 'registration';

/** Whose budget a request spends. */
export interface LimitKey {
  key: string;
  /** address: anonymous; client: a client that proved its secret; client_address: a public client's claim, per address. */
  kind: 'address' | 'client' | 'client_address';
  clientId?: string;
}

export interface LimitSpec {
  /** Requests per window; 0 = no limit (the middleware passes everything through). */
  max: number;
  windowSeconds: number;
  /** Writes the refusal in the face's dialect; status 429 and Retry-After are set already. */
  refuse: (ctx: Context, retryAfterSeconds: number) => void;
  /** Whose budget the request spends; by default the client address. */
  key?: (ctx: Context) => LimitKey | Promise<LimitKey>;
}

/** The address's budget: IPv6 addresses by their /64 (domain/addresses.ts). */
export const addressKey = (ctx: Context): LimitKey => ({ key: `addr:${limitAddress(ctx.ip)}`, kind: 'address' });

const SWEEP_INTERVAL_MS = 60_000;
const passThrough: Middleware = (_ctx: Context, next: Next) => next();

export class RequestLimits {
  /** koa-ratelimit's memory store; expired windows are swept, or every address ever seen would stay. */
  private readonly memory = new Map<string, { reset: number }>();
  /** Keys whose refusal was audited in this window (memory store, or Redis unreachable for it). */
  private readonly audited = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly opts: {
      redis?: Redis;
      keyPrefix: string;
      /** The guessing limits' store: its policy and log for an unreachable Redis apply here too. */
      store: LimitStore;
      audit: Pick<AuditLog, 'record'>;
      metrics: Pick<Metrics, 'rateLimitHit'>;
    },
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  limit(name: LimitName, spec: LimitSpec): Middleware {
    if (spec.max <= 0) return passThrough;
    const { redis } = this.opts;
    const namespace = `${this.opts.keyPrefix}ratelimit:${name}`;
    const windowMs = spec.windowSeconds * 1000;
    const keyOf = spec.key ?? addressKey;
    const counter = ratelimit({
      driver: redis ? 'redis' : 'memory',
      db: (redis ?? this.memory) as never,
      namespace,
      duration: windowMs,
      max: spec.max,
      id: (ctx: Context) => (ctx.state.requestLimitKey as LimitKey).key,
    });
    return async (ctx: Context, next: Next): Promise<void> => {
      const key = await keyOf(ctx);
      ctx.state.requestLimitKey = key;
      if (redis && redis.status !== 'ready') {
        // Not ready = decide at once rather than queue behind a reconnect.
        this.opts.store.unreachable(`ratelimit:${name}`, 'consume', new Error(`Redis is ${redis.status}`));
        return next();
      }
      let passed = false;
      try {
        await counter(ctx, async () => {
          passed = true;
          wholeSecondsReset(ctx);
          await next();
        });
      } catch (err) {
        if (passed) throw err; // the endpoint's own error, for its face to render
        this.opts.store.unreachable(`ratelimit:${name}`, 'consume', err); // throws when failing closed
        return next();
      }
      if (passed) return;
      const reset = wholeSecondsReset(ctx);
      const retryAfter = Math.min(spec.windowSeconds, Math.max(1, Math.ceil(reset.exact - Date.now() / 1000)));
      ctx.status = 429;
      ctx.set('Retry-After', String(retryAfter));
      spec.refuse(ctx, retryAfter);
      this.opts.metrics.rateLimitHit(name);
      if (await this.firstRefusal(`${namespace}:audited:${key.key}`, windowMs)) {
        this.opts.audit.record({
          eventType: 'RATE_LIMIT_EXCEEDED',
          severity: 'WARNING',
          success: false,
          clientId: key.clientId ?? null,
          request: requestInfo(ctx),
          details: { limit: name, max_requests: spec.max, window_seconds: spec.windowSeconds, keyed_by: key.kind, retry_after_seconds: retryAfter, path: ctx.path },
        });
      }
    };
  }

  /** True once per key and window: across instances with Redis (SET NX with the window as expiry). */
  private async firstRefusal(auditKey: string, windowMs: number): Promise<boolean> {
    const { redis } = this.opts;
    if (redis) {
      try {
        return (await redis.set(auditKey, '1', 'PX', windowMs, 'NX')) === 'OK';
      } catch {
        // Redis went away between the count and here: remember it in this process instead.
      }
    }
    const now = Date.now();
    if ((this.audited.get(auditKey) ?? 0) > now) return false;
    this.audited.set(auditKey, now + windowMs);
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.memory) if (entry.reset * 1000 < now) this.memory.delete(key);
    for (const [key, until] of this.audited) if (until <= now) this.audited.delete(key);
  }
}

/** koa-ratelimit's memory store reports the reset time with a fraction; the header says whole epoch seconds. */
function wholeSecondsReset(ctx: Context): { exact: number } {
  const exact = Number(ctx.response.get('X-RateLimit-Reset')) || Date.now() / 1000;
  ctx.set('X-RateLimit-Reset', String(Math.ceil(exact)));
  return { exact };
}
