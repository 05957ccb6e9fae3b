// The guessing policy shared by everything a person can guess (passwords, device user_codes): an
// attempt is counted against both limits BEFORE it is evaluated, so racing guesses cannot all get
// through while the first ones are still being checked; a refused attempt is never evaluated.
// A success is not counted as a failure (its address point is given back) and clears the subject's
// count only: one good sign-in must not reset what an address has been doing to other accounts.
import { limitAddress } from '../domain/addresses.js';
import { TooManyAttempts } from '../domain/errors.js';
import type { AttemptLimiters, WindowLimiter } from '../ops/attempt-limiter.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

export interface AttemptKeys {
  /** What is being guessed at: an account (its username, lowercased) or a signed-in user. */
  subject: string;
  /** The client's address (req.ip); counted by its limit key (domain/addresses.ts: IPv6 by /64). */
  address: string;
}

export class AttemptPolicy {
  constructor(
    private readonly limiters: AttemptLimiters,
    private readonly audit: AuditLog,
    /** The audit event for a lockout, e.g. LOGIN_LOCKED_OUT. */
    private readonly lockoutEvent: string,
  ) {}

  /**
   * Runs `attempt` when both limits allow it; an error for which `isFailure` is true counts as a
   * failed guess, any other error (the database is down) gives the counted points back.
   * Throws TooManyAttempts (the lockout is audited once per window and kind) or, when the limit store
   * is down and RATE_LIMIT_FAIL_CLOSED is on, TemporarilyUnavailable.
   */
  async guard<T>(
    keys: AttemptKeys,
    who: { actor: AuditEntry['actor']; request: RequestInfo },
    attempt: () => Promise<T>,
    isFailure: (err: unknown) => boolean,
  ): Promise<T> {
    const { perSubject, perAddress } = this.limiters;
    const at = limitAddress(keys.address); // an IPv6 address counts by its /64
    const [subject, address] = await Promise.all([perSubject.consume(keys.subject), perAddress.consume(at)]);
    if (!subject.allowed || !address.allowed) {
      // The attempt does not happen, so the limit that allowed it must not count it.
      if (subject.allowed) await perSubject.refund(keys.subject);
      if (address.allowed) await perAddress.refund(at);
      if (!subject.allowed && subject.firstRefusal) this.auditLockout(perSubject, 'account', subject.retryAfter, who);
      if (!address.allowed && address.firstRefusal) this.auditLockout(perAddress, 'address', address.retryAfter, who);
      throw new TooManyAttempts(Math.max(subject.allowed ? 0 : subject.retryAfter, address.allowed ? 0 : address.retryAfter));
    }
    let result: T;
    try {
      result = await attempt();
    } catch (err) {
      if (!isFailure(err)) await Promise.all([perSubject.refund(keys.subject), perAddress.refund(at)]);
      throw err;
    }
    await Promise.all([perSubject.reset(keys.subject), perAddress.refund(at)]);
    return result;
  }

  private auditLockout(limiter: WindowLimiter, kind: 'account' | 'address', retryAfter: number, who: { actor: AuditEntry['actor']; request: RequestInfo }): void {
    this.audit.record({
      eventType: this.lockoutEvent,
      severity: 'WARNING',
      success: false,
      actor: who.actor,
      request: who.request,
      details: { subject_kind: kind, max_failures: limiter.limits.points, window_seconds: limiter.limits.windowSeconds, retry_after_seconds: retryAfter },
    });
  }
}
