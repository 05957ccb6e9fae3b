// Counters in fixed windows, with rate-limiter-flexible: in memory for one instance, in Redis when
// REDIS_URL is set, so several instances share them and guessing cannot be spread across instances.
// Every check counts first and atomically (one INCR in a Lua script on Redis), so racing requests
// cannot all slip under the limit before any of them is counted.
//
// When the store cannot be reached, RATE_LIMIT_FAIL_CLOSED decides: open (default) lets the action
// through, closed refuses it with TemporarilyUnavailable. Either way the failure is logged (throttled)
// and counted in `rate_limit_backend_errors_total`, and the limits resume by themselves when the store
// answers again.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { TemporarilyUnavailable } from '../domain/errors.js';
import { throttledLog } from './log-throttle.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';

export interface WindowLimits {
  /** Attempts allowed per key in one window. */
  points: number;
  windowSeconds: number;
}

export type Consumed =
  | { allowed: true }
  | {
      allowed: false;
      /** Seconds until the window ends. */
      retryAfter: number;
      /** True for exactly one refusal per key and window (the one that crossed the limit). */
      firstRefusal: boolean;
    };

const BACKEND_ERROR_LOG_INTERVAL_MS = 30_000;
const RETRY_AFTER_WHEN_UNAVAILABLE = 30;

/** Where the counters live and what happens when that place cannot be reached. */
export class LimitStore {
  private readonly errors;
  /** The instance's metrics (limit hits, backend errors); a private registry when not given. */
  readonly metrics: Metrics;

  constructor(
    private readonly opts: { redis?: Redis; keyPrefix: string; failClosed: boolean; logger: Logger; metrics?: Metrics },
  ) {
    this.errors = throttledLog(opts.logger, 'warn', BACKEND_ERROR_LOG_INTERVAL_MS);
    this.metrics = opts.metrics ?? new Metrics();
  }

  limiter(name: string, limits: WindowLimits): WindowLimiter {
    const common = { points: limits.points, duration: limits.windowSeconds, keyPrefix: `${this.opts.keyPrefix}limits:${name}` };
    const backend = this.opts.redis
      ? // Not ready = fail at once instead of queueing behind a reconnect while a person waits.
        new RateLimiterRedis({ ...common, storeClient: this.opts.redis, rejectIfRedisNotReady: true })
      : new RateLimiterMemory(common);
    return new WindowLimiter(this, name, limits, backend);
  }

  /** A check that could not reach the store: refused when failing closed, else let through. */
  unreachable(limiter: string, action: string, err: unknown): void {
    const policy = this.opts.failClosed ? 'closed' : 'open';
    this.metrics.rateLimitBackendErrors.inc({ limiter, policy });
    this.errors.log('limit store unreachable', { limiter, action, policy, error: err instanceof Error ? err.message : String(err) });
    if (this.opts.failClosed && action === 'consume') {
      throw new TemporarilyUnavailable('This action is temporarily unavailable. Please try again in a minute.', RETRY_AFTER_WHEN_UNAVAILABLE);
    }
  }
}

/** One named counter (e.g. "login:account"), keyed by whatever the caller counts per. */
export class WindowLimiter {
  constructor(
    private readonly store: LimitStore,
    readonly name: string,
    readonly limits: WindowLimits,
    private readonly backend: RateLimiterAbstract,
  ) {}

  /** Counts one attempt and says whether it is within the limit. */
  async consume(key: string): Promise<Consumed> {
    try {
      await this.backend.consume(key);
      return { allowed: true };
    } catch (res) {
      if (!(res instanceof RateLimiterRes)) {
        this.store.unreachable(this.name, 'consume', res);
        return { allowed: true };
      }
      // rate_limit_hits_total{limit}: "login_subject", "user_code_address", or a request limit's own name ("token").
      this.store.metrics.rateLimitHit(this.name.replace(/^ratelimit:/, '').replace(/:/g, '_'));
      return { allowed: false, retryAfter: Math.max(1, Math.ceil(res.msBeforeNext / 1000)), firstRefusal: res.consumedPoints === this.limits.points + 1 };
    }
  }

  /** Gives back one counted attempt (it did not happen, or must not count). */
  async refund(key: string): Promise<void> {
    await this.backend.reward(key, 1).catch((err: unknown) => this.store.unreachable(this.name, 'refund', err));
  }

  /** Forgets the key's count. */
  async reset(key: string): Promise<void> {
    await this.backend.delete(key).catch((err: unknown) => this.store.unreachable(this.name, 'reset', err));
  }
}

/**
 * The two limits every guessing target gets: a tight one per subject (an account, whatever address
 * the guesses come from, so a distributed guesser is slowed too) and a looser one per address, so
 * spraying many accounts from one address is slowed, while many people behind one NAT are not locked
 * out by one person's typos.
 */
export interface AttemptLimiters {
  perSubject: WindowLimiter;
  perAddress: WindowLimiter;
}

export const SUBJECT_LIMITS: WindowLimits = { points: 5, windowSeconds: 5 * 60 };
export const ADDRESS_LIMITS: WindowLimits = { points: 50, windowSeconds: 15 * 60 };

export function attemptLimiters(store: LimitStore, target: string, limits = { perSubject: SUBJECT_LIMITS, perAddress: ADDRESS_LIMITS }): AttemptLimiters {
  return { perSubject: store.limiter(`${target}:subject`, limits.perSubject), perAddress: store.limiter(`${target}:address`, limits.perAddress) };
}
