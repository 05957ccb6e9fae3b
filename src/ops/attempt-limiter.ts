// Slows repeated failures (password guessing, user_code guessing) per key, e.g. "login:ip:user".
// Written here rather than with koa-ratelimit because that counts every request, and what must be
// slowed is failed attempts only: a user who types the right code first time is never held up.
// In memory for one instance; with REDIS_URL the counters live in Redis, so several instances share
// them and guessing cannot be spread across instances.
import type { Redis } from 'ioredis';

export interface AttemptLimiter {
  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string): Promise<number>;
  recordFailure(key: string): Promise<void>;
  reset(key: string): Promise<void>;
}

export interface AttemptLimits {
  maxFailures: number;
  windowMs: number;
}

export class MemoryAttemptLimiter implements AttemptLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly limits: AttemptLimits) {}

  async retryAfter(key: string, now = Date.now()): Promise<number> {
    const entry = this.failures.get(key);
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.limits.maxFailures ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  async recordFailure(key: string, now = Date.now()): Promise<void> {
    const entry = this.failures.get(key);
    if (!entry || entry.resetAt <= now) this.failures.set(key, { count: 1, resetAt: now + this.limits.windowMs });
    else entry.count++;
    if (this.failures.size > 100_000) this.sweep(now);
  }

  async reset(key: string): Promise<void> {
    this.failures.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key);
  }
}

/** The same rules on Redis: a counter per key whose window starts with its first failure. */
export class RedisAttemptLimiter implements AttemptLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly limits: AttemptLimits,
    keyPrefix: string,
  ) {
    this.prefix = keyPrefix;
  }

  private readonly prefix: string;

  async retryAfter(key: string): Promise<number> {
    const [[, count], [, ttl]] = (await this.redis.multi().get(this.prefix + key).pttl(this.prefix + key).exec()) as [
      [unknown, string | null],
      [unknown, number],
    ];
    if (count === null || Number(count) < this.limits.maxFailures || ttl <= 0) return 0;
    return Math.ceil(ttl / 1000);
  }

  async recordFailure(key: string): Promise<void> {
    // PEXPIRE NX: only the first failure starts the window, later ones do not extend it.
    await this.redis.multi().incr(this.prefix + key).pexpire(this.prefix + key, this.limits.windowMs, 'NX').exec();
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }
}

/**
 * The two limits every guessing target gets: a tight one per subject (an account at an address, a
 * signed-in user) and a looser one per address, so spraying many accounts from one address is slowed
 * too, while many people behind one NAT are not locked out by one person's typos.
 */
export interface AttemptLimiters {
  perSubject: AttemptLimiter;
  perAddress: AttemptLimiter;
}

export const SUBJECT_LIMITS: AttemptLimits = { maxFailures: 5, windowMs: 5 * 60_000 };
export const ADDRESS_LIMITS: AttemptLimits = { maxFailures: 50, windowMs: 15 * 60_000 };

export function createAttemptLimiters(redis: Redis | undefined, keyPrefix: string): AttemptLimiters {
  const make = (limits: AttemptLimits, name: string) =>
    redis ? new RedisAttemptLimiter(redis, limits, `${keyPrefix}${name}:`) : new MemoryAttemptLimiter(limits);
  return { perSubject: make(SUBJECT_LIMITS, 'subject'), perAddress: make(ADDRESS_LIMITS, 'address') };
}

/** One attempt checked against both limits. */
export function attemptGuard(limiters: AttemptLimiters, keys: { subject: string; address: string }) {
  return {
    /** Seconds to wait before trying, the longer of the two; 0 when the attempt may go ahead. */
    async wait(): Promise<number> {
      const [a, b] = await Promise.all([limiters.perSubject.retryAfter(keys.subject), limiters.perAddress.retryAfter(keys.address)]);
      return Math.max(a, b);
    },
    async failed(): Promise<void> {
      await Promise.all([limiters.perSubject.recordFailure(keys.subject), limiters.perAddress.recordFailure(keys.address)]);
    },
    /** A success clears the subject's count only: one good account must not reset an address's count. */
    async succeeded(): Promise<void> {
      await limiters.perSubject.reset(keys.subject);
    },
  };
}
