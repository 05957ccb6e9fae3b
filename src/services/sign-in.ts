// Signing in and out: the guessing limits, the password check and their audit, decided here so every
// face that signs people in (the login page today) behaves the same.
import type { User } from '../db/client.js';
import { BadInput, InvalidCredentials } from '../domain/errors.js';
import type { AttemptPolicy } from './attempt-policy.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import type { UserService } from './users.js';

export class SignInService {
  constructor(
    private readonly users: UserService,
    private readonly audit: AuditLog,
    private readonly policy: AttemptPolicy,
  ) {}

  /**
   * The user for a username and password. Throws BadInput (nothing entered), TooManyAttempts (locked
   * out: the password is not even checked), InvalidCredentials, or TemporarilyUnavailable.
   */
  async signIn(username: string, password: string, req: RequestInfo): Promise<User> {
    if (!username || !password) throw new BadInput('Enter your username and password.');
    // Per account whatever the address (lowercased: "Admin" and "admin" are one target to a guesser).
    const keys = { subject: username.toLowerCase(), address: req.ip ?? 'unknown' };
    return this.policy.guard(
      keys,
      { actor: { username }, request: req },
      () => this.users.authenticate(username, password, req),
      (err) => err instanceof InvalidCredentials,
    );
  }

  /** Records the sign-out; ending the session is the face's part (it owns the cookie). */
  signOut(user: Pick<User, 'id' | 'username'>, req: RequestInfo): void {
    this.audit.record({ eventType: 'LOGOUT', actor: { userId: user.id, username: user.username }, request: req });
  }
}
