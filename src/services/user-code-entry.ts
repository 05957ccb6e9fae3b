// A signed-in person typing a device's user_code (RFC 8628 §3.3). A user_code is short enough to be
// guessed (RFC 8628 §5.1), so every lookup goes through the same guessing policy as passwords: per
// signed-in user and per address, a wrong or used code counting as a failure.
import type { User } from '../db/client.js';
import { BadInput } from '../domain/errors.js';
import type { AttemptPolicy } from './attempt-policy.js';
import type { DeviceCodeService, PendingDeviceRequest } from './device-codes.js';
import type { RequestInfo } from './request-context.js';

export class UserCodeEntryService {
  constructor(
    private readonly deviceCodes: DeviceCodeService,
    private readonly policy: AttemptPolicy,
  ) {}

  /** The pending request behind a typed code, to show before the user decides. */
  findPending(userCode: string, user: User, req: RequestInfo): Promise<PendingDeviceRequest & { id: string }> {
    return this.guarded(user, req, () => this.deviceCodes.findPending(userCode));
  }

  /** Approves or denies the request behind a typed code. */
  decide(userCode: string, user: User, approve: boolean, req: RequestInfo): Promise<PendingDeviceRequest> {
    return this.guarded(user, req, () => this.deviceCodes.decide(userCode, user, approve, req));
  }

  private guarded<T>(user: User, req: RequestInfo, lookup: () => Promise<T>): Promise<T> {
    return this.policy.guard(
      { subject: user.id, address: req.ip ?? 'unknown' },
      { actor: { userId: user.id, username: user.username }, request: req },
      lookup,
      (err) => err instanceof BadInput,
    );
  }
}
