// Signing in and out: the guessing limits, the check against the account's sign-in source, creating
// accounts on a first external sign-in, and their audit, decided here so every face that signs people
// in (the login page today) behaves the same.
//
// Which source checks a password is decided by the account, not the mode (AuthGate's rule):
// - an account that exists signs in through the source recorded on it: `http_api` through the user
//   service only, never a local password; every other account against its bcrypt hash (the seeded admin
//   and every admin-made account, in either AUTH_MODE; an identity provider's account has none);
// - an unknown username is checked with the user service when AUTH_MODE=http_api, and on success its
//   account is created (authSource http_api, the service's user_id recorded as an OAuthConnection with
//   provider "http_api"); otherwise it fails like a wrong password.
import type { Db, User } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { writeTransaction, type Dialect } from '../db/transactions.js';
import type { AuthMode } from '../config/env.js';
import { BadInput, InvalidCredentials, SignInRefused, SignInSourceUnavailable, TooManyAttempts } from '../domain/errors.js';
import { HttpApiUnavailable, type ExternalIdentity, type HttpApiClient } from '../identity/http-api.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import { secondsSince, type Metrics } from '../ops/metrics.js';
import type { AttemptPolicy } from './attempt-policy.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

export const HTTP_API_SOURCE = 'http_api';

// The usernames an administrator may give (user-admin.ts): an account created on first sign-in follows
// the same rule, so every account stays editable.
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MAX_NAME_LENGTH = 200;

export interface SignInSources {
  authMode: AuthMode;
  /** Present when HTTP_API_URL is set. */
  httpApi?: HttpApiClient;
}

export class SignInService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly policy: AttemptPolicy,
    private readonly sources: SignInSources,
    private readonly dialect: Dialect,
    private readonly metrics: Metrics,
    private readonly passwords: PasswordHasher,
  ) {}

  /**
   * The user for a username and password. Throws BadInput (nothing entered), TooManyAttempts (locked
   * out: the password is not even checked), InvalidCredentials, SignInRefused (the user service said
   * yes, this server says no, and why), SignInSourceUnavailable (the user service gave no answer), or
   * TemporarilyUnavailable.
   */
  async signIn(username: string, password: string, req: RequestInfo): Promise<User> {
    const started = process.hrtime.bigint();
    try {
      const user = await this.checkCredentials(username, password, req);
      this.metrics.authLogin.inc({ auth_source: user.authSource === HTTP_API_SOURCE ? HTTP_API_SOURCE : 'local', result: 'success' });
      // The face starts the signed-in session with this user (a new session id, see web/login.ts).
      this.metrics.sessionsCreated.inc();
      return user;
    } catch (err) {
      const refused = err instanceof InvalidCredentials || err instanceof TooManyAttempts || err instanceof BadInput || err instanceof SignInRefused;
      this.metrics.authLogin.inc({ auth_source: this.sources.authMode, result: refused ? 'failure' : 'error' });
      throw err;
    } finally {
      this.metrics.authLoginDuration.observe({ method: this.sources.authMode }, secondsSince(started));
    }
  }

  private async checkCredentials(username: string, password: string, req: RequestInfo): Promise<User> {
    if (!username || !password) throw new BadInput('Enter your username and password.');
    // Per account whatever the address (lowercased: "Admin" and "admin" are one target to a guesser).
    const keys = { subject: username.toLowerCase(), address: req.ip ?? 'unknown' };
    return this.policy.guard(
      keys,
      { actor: { username }, request: req },
      () => this.authenticate(username, password, req),
      // A password that reached the user service counts whatever came back: it may have been checked
      // there even when the answer was lost, and a service that fails on wrong passwords must not
      // become a way around the limit.
      (err) => err instanceof InvalidCredentials || err instanceof SignInSourceUnavailable || err instanceof SignInRefused,
    );
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

  private async authenticate(username: string, password: string, req: RequestInfo): Promise<User> {
    const user = await this.db.user.findUnique({ where: { username } });
    if (user?.authSource === HTTP_API_SOURCE) return this.viaHttpApi(username, password, req, user);
    if (!user && this.sources.authMode === 'http_api') return this.viaHttpApi(username, password, req, null);
    return this.viaLocal(username, password, req, user);
  }

  /**
   * The account's bcrypt hash, as AuthGate does for every source but http_api: an account from an
   * identity provider has no hash, so it cannot sign in with a password. The comparison runs even
   * without a hash (equal timing).
   */
  private async viaLocal(username: string, password: string, req: RequestInfo, user: User | null): Promise<User> {
    const ok = await this.passwords.verify(user?.passwordHash, password);
    this.metrics.authAttempts.inc({ method: 'local', result: ok && user?.active ? 'success' : 'failure' });
    if (!user || !ok || !user.active) {
      const reason = !user ? 'unknown_user' : !user.passwordHash ? 'no_local_password' : !user.active ? 'user_disabled' : 'bad_password';
      this.failure(username, req, { reason, auth_source: user?.authSource ?? 'local' }, user);
      throw new InvalidCredentials();
    }
    await this.db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    this.audit.record({ eventType: 'AUTHENTICATION_SUCCESS', actor: { userId: user.id, username: user.username }, request: req, details: { auth_source: user.authSource } });
    return user;
  }

  /** `user`: the account this username names, or null for a first sign-in (AUTH_MODE=http_api). */
  private async viaHttpApi(username: string, password: string, req: RequestInfo, user: User | null): Promise<User> {
    const api = this.sources.httpApi;
    const base = { auth_source: HTTP_API_SOURCE };
    if (user && !user.active) {
      // Disabled here: the password is not sent anywhere.
      this.failure(username, req, { ...base, reason: 'user_disabled' }, user);
      throw new InvalidCredentials();
    }
    if (!api) {
      this.failure(username, req, { ...base, reason: 'source_not_configured' }, user, 'ERROR');
      throw new InvalidCredentials();
    }
    if (!user && !USERNAME.test(username)) {
      // Could never become an account here: not forwarded.
      this.failure(username, req, { ...base, reason: 'invalid_username' }, null);
      throw new InvalidCredentials();
    }
    let verdict;
    try {
      verdict = await api.verify(username, password);
    } catch (err) {
      if (!(err instanceof HttpApiUnavailable)) throw err;
      this.failure(username, req, { ...base, reason: 'user_service_unavailable', failure: err.failure, status: err.status ?? null, attempts: err.attempts, endpoint: api.endpoint }, user, 'ERROR');
      throw new SignInSourceUnavailable();
    }
    this.metrics.authAttempts.inc({ method: HTTP_API_SOURCE, result: verdict.accepted ? 'success' : 'failure' });
    if (!verdict.accepted) {
      this.failure(username, req, { ...base, reason: 'rejected_by_user_service', status: verdict.status, attempts: verdict.attempts }, user);
      throw new InvalidCredentials();
    }
    const identity = verdict.identity;
    const signedIn = user ? await this.existingHttpApiUser(user, identity, req) : await this.firstHttpApiSignIn(username, identity, req);
    this.audit.record({
      eventType: 'AUTHENTICATION_SUCCESS',
      actor: { userId: signedIn.id, username: signedIn.username },
      request: req,
      details: { ...base, external_id: identity.userId, attempts: verdict.attempts },
    });
    return signedIn;
  }

  /** An http_api account signing in again: the user service must still mean the same person. */
  private async existingHttpApiUser(user: User, identity: ExternalIdentity, req: RequestInfo): Promise<User> {
    const link = await this.db.oAuthConnection.findUnique({ where: { userId_provider: { userId: user.id, provider: HTTP_API_SOURCE } } });
    if (link && link.providerUserId !== identity.userId) {
      // The username now names someone else at the service: signing them in would hand them this account.
      this.failure(user.username, req, { auth_source: HTTP_API_SOURCE, reason: 'external_id_mismatch', recorded_external_id: link.providerUserId, external_id: identity.userId }, user, 'CRITICAL');
      throw new SignInRefused('This username belongs to a different person at the sign-in service than the account here. Ask an administrator.');
    }
    if (!link) {
      // An account marked http_api without a recorded id (imported, or made before ids were kept): link it now,
      // unless that id already belongs to another account here.
      const owner = await this.db.oAuthConnection.findUnique({ where: { provider_providerUserId: { provider: HTTP_API_SOURCE, providerUserId: identity.userId } } });
      if (owner && owner.userId !== user.id) {
        this.failure(user.username, req, { auth_source: HTTP_API_SOURCE, reason: 'external_id_taken', external_id: identity.userId }, user, 'CRITICAL');
        throw new SignInRefused('The sign-in service says this is a person who already has another account here. Ask an administrator.');
      }
    }
    return this.refresh(user, identity, !link, req);
  }

  /** A first sign-in (AUTH_MODE=http_api): the account is created, or found by the service's user id. */
  private async firstHttpApiSignIn(username: string, identity: ExternalIdentity, req: RequestInfo): Promise<User> {
    const email = usableEmail(identity.email);
    const fullName = usableName(identity.fullName);
    const byExternalId = { provider_providerUserId: { provider: HTTP_API_SOURCE, providerUserId: identity.userId } };
    let outcome: { created: User } | { known: User } | { emailTaken: true } | { conflict: true };
    try {
      // Looked up and created in one write transaction: racing first sign-ins of one person end with one account.
      outcome = await writeTransaction(this.db, this.dialect, async (tx) => {
        const known = await tx.oAuthConnection.findUnique({ where: byExternalId, include: { user: true } });
        // The same person under another spelling of their username (the service decides): their account.
        if (known) return { known: known.user };
        // Never linked by e-mail: the service's address is not verified, and linking would hand over that account.
        if (email && (await tx.user.findUnique({ where: { email }, select: { id: true } }))) return { emailTaken: true as const };
        const created = await tx.user.create({ data: { username, email, fullName, authSource: HTTP_API_SOURCE, passwordHash: null, lastLoginAt: new Date() } });
        await tx.oAuthConnection.create({
          data: { userId: created.id, provider: HTTP_API_SOURCE, providerUserId: identity.userId, email, displayName: fullName || null, lastUsedAt: new Date() },
        });
        await this.audit.recordIn(tx, {
          eventType: 'USER_CREATED',
          actor: { userId: created.id, username },
          subject: { type: 'user', id: created.id },
          request: req,
          details: { username, email, role: created.role, auth_source: HTTP_API_SOURCE, external_id: identity.userId, auto_registered: true },
        });
        return { created };
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      outcome = { conflict: true };
    }
    if ('created' in outcome) return outcome.created;
    if (!('known' in outcome)) {
      // A concurrent first sign-in of the same person may have committed in between (PostgreSQL reads
      // each statement's latest commit): then theirs is the account, and it holds the e-mail and username.
      const winner = await this.db.oAuthConnection.findUnique({ where: byExternalId, include: { user: true } });
      if (winner) outcome = { known: winner.user };
    }
    if ('emailTaken' in outcome) {
      this.failure(username, req, { auth_source: HTTP_API_SOURCE, reason: 'email_conflict', external_id: identity.userId }, null, 'WARNING');
      throw new SignInRefused('An account with your e-mail address already exists here, so a new one cannot be created for you. Ask an administrator.');
    }
    if ('conflict' in outcome) {
      this.failure(username, req, { auth_source: HTTP_API_SOURCE, reason: 'account_conflict', external_id: identity.userId }, null, 'WARNING');
      throw new SignInRefused('An account with this username or e-mail address already exists here, so a new one cannot be created for you. Ask an administrator.');
    }
    if (!outcome.known.active) {
      this.failure(username, req, { auth_source: HTTP_API_SOURCE, reason: 'user_disabled', external_id: identity.userId }, outcome.known);
      throw new InvalidCredentials();
    }
    return this.refresh(outcome.known, identity, false, req);
  }

  /**
   * Keeps the account in step with the service: name and e-mail when they changed (an e-mail another
   * account holds is left as it was), last use. An account disabled while the service was being asked
   * is not signed in.
   */
  private async refresh(user: User, identity: ExternalIdentity, link: boolean, req: RequestInfo, takeEmail = true): Promise<User> {
    const fullName = usableName(identity.fullName);
    const email = usableEmail(identity.email);
    const data: { lastLoginAt: Date; fullName?: string; email?: string } = { lastLoginAt: new Date() };
    if (fullName && fullName !== user.fullName) data.fullName = fullName;
    if (takeEmail && email && email !== user.email && !(await this.db.user.findUnique({ where: { email }, select: { id: true } }))) data.email = email;
    const connection = { email: email ?? null, displayName: fullName || null, lastUsedAt: new Date() };
    let updated: User;
    try {
      updated = await writeTransaction(this.db, this.dialect, async (tx) => {
        const row = await tx.user.update({ where: { id: user.id }, data });
        if (link) await tx.oAuthConnection.create({ data: { userId: user.id, provider: HTTP_API_SOURCE, providerUserId: identity.userId, ...connection } });
        else await tx.oAuthConnection.updateMany({ where: { userId: user.id, provider: HTTP_API_SOURCE }, data: connection });
        return row;
      });
    } catch (err) {
      // Another account took the e-mail meanwhile, or a concurrent sign-in linked the account first.
      if (!isUniqueViolation(err) || !takeEmail) throw err;
      const linked = link && (await this.db.oAuthConnection.findUnique({ where: { userId_provider: { userId: user.id, provider: HTTP_API_SOURCE } } }));
      return this.refresh(user, identity, link && !linked, req, false);
    }
    if (!updated.active) {
      this.failure(updated.username, req, { auth_source: HTTP_API_SOURCE, reason: 'user_disabled', external_id: identity.userId }, updated);
      throw new InvalidCredentials();
    }
    return updated;
  }

  private failure(username: string, req: RequestInfo, details: Record<string, unknown>, user: User | null, severity: AuditEntry['severity'] = 'WARNING'): void {
    this.audit.record({
      eventType: 'AUTHENTICATION_FAILURE',
      severity,
      success: false,
      actor: { userId: user?.id, username },
      request: req,
      details,
    });
  }
}

/** The service's e-mail when it is one (else the account has none). */
function usableEmail(email: string | null): string | null {
  if (!email || email.length > 254 || !EMAIL.test(email) || /\p{Cc}/u.test(email)) return null;
  return email;
}

/** The service's full name without control characters, at most as long as an admin may type. */
function usableName(name: string): string {
  return name.replace(/\p{Cc}/gu, ' ').trim().slice(0, MAX_NAME_LENGTH);
}
