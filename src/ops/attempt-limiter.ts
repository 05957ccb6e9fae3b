// Slows repeated failures (password guessing, user_code guessing) per key, e.g. "ip:1.2.3.4".
// Written here rather than with koa-ratelimit because that counts every request, and what must be
// slowed is failed attempts only: a user who types the right code first time is never held up.
// In memory, per instance; a shared store comes with the Redis work.
export class AttemptLimiter {
  private readonly failures = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly opts: { maxFailures: number; windowMs: number }) {}

  /** Seconds until the key may try again, or 0 when it may try now. */
  retryAfter(key: string, now = Date.now()): number {
    const entry = this.failures.get(key);
    if (!entry || entry.resetAt <= now) return 0;
    return entry.count >= this.opts.maxFailures ? Math.ceil((entry.resetAt - now) / 1000) : 0;
  }

  recordFailure(key: string, now = Date.now()): void {
    const entry = this.failures.get(key);
    if (!entry || entry.resetAt <= now) this.failures.set(key, { count: 1, resetAt: now + this.opts.windowMs });
    else entry.count++;
    if (this.failures.size > 100_000) this.sweep(now);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.failures) if (entry.resetAt <= now) this.failures.delete(key);
  }
}
