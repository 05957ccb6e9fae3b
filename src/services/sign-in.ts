// Signing in and out: the guessing limits, the password check and their audit, decided here so every
// face that signs people in (the login page today) behaves the same.
import type { User } from '../db/client.js';
import { BadInput, InvalidCredentials, TooManyAttempts } from '../domain/errors.js';
import { secondsSince, type Metrics } from '../ops/metrics.js';
import type { AttemptPolicy } from './attempt-policy.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import type { UserService } from './users.js';

export class SignInService {
  constructor(
    private readonly users: UserService,
    private readonly audit: AuditLog,
    private readonly policy: AttemptPolicy,
    private readonly metrics: Metrics,
  ) {}

  /**
   * The user for a username and password. Throws BadInput (nothing entered), TooManyAttempts (locked
   * out: the password is not even checked), InvalidCredentials, or TemporarilyUnavailable.
   */
  async signIn(username: string, password: string, req: RequestInfo): Promise<User> {
    const started = process.hrtime.bigint();
    try {
      const user = await this.checkCredentials(username, password, req);
      this.metrics.authLogin.inc({ auth_source: 'local', result: 'success' });
      // The face starts the signed-in session with this user (a new session id, see web/login.ts).
      this.metrics.sessionsCreated.inc();
      return user;
    } catch (err) {
      const refused = err instanceof InvalidCredentials || err instanceof TooManyAttempts || err instanceof BadInput;
      this.metrics.authLogin.inc({ auth_source: 'local', result: refused ? 'failure' : 'error' });
      throw err;
    } finally {
      this.metrics.authLoginDuration.observe({ method: 'local' }, secondsSince(started));
    }
  }

  private async checkCredentials(username: string, password: string, req: RequestInfo): Promise<User> {
    if (!username || !password) throw new BadInput('Enter your username and password.');
    // Per account whatever the address (lowercased: "Admin" and "admin" are one target to a guesser).
    const keys = { subject: username.toLowerCase(), address: req.ip ?? 'unknown' };
    return this.policy.guard(
      keys,
      { actor: { username }, request: req },
      () => this.checkPassword(username, password, req),
      (err) => err instanceof InvalidCredentials,
    );
  }

  /** The password check itself (run only when the guessing limits allow it): auth_attempts_total. */
  private async checkPassword(username: string, password: string, req: RequestInfo): Promise<User> {
    try {
      const user = await this.users.authenticate(username, password, req);
      this.metrics.authAttempts.inc({ method: 'local', result: 'success' });
      return user;
    } catch (err) {
      if (err instanceof InvalidCredentials) this.metrics.authAttempts.inc({ method: 'local', result: 'failure' });
      throw err;
    }
  }

  /**
   * Records the sign-out; ending the session is the face's part (it owns the cookie). `signedInAt` is
   * when the session signed in (ms since epoch), for session_duration_seconds.
   */
  signOut(user: Pick<User, 'id' | 'username'>, req: RequestInfo, signedInAt?: unknown): void {
    this.metrics.authLogout.inc();
    this.metrics.sessionEnded({ expired: 'logout' }, signedInAt);
    this.audit.record({ eventType: 'LOGOUT', actor: { userId: user.id, username: user.username }, request: req });
  }
}
