// A person's own account: where they are signed in, which apps they let in, which tokens are live,
// and ending any of those; changing their password. Also the two admin counterparts (ending someone
// else's authorization or session). Another user's rows are NotFound, never Forbidden, so ids cannot
// be probed.
import type { Db, OAuthClient, Prisma, Token, UserAuthorization } from '../db/client.js';
import { BadInput, NotFound } from '../domain/errors.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import type { Caches } from '../ops/cache.js';
import type { AttemptPolicy } from './attempt-policy.js';
import type { Metrics } from '../ops/metrics.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import type { SessionMeta } from './session-store.js';
import type { SessionService } from './sessions.js';
import type { Actor } from './revocation.js';
import { revokeTokensWhere } from './tokens.js';
import { checkPassword } from './user-admin.js';

// Most recent first; the id keeps the order total, so cursor pages never repeat or skip a row.
export const RECENT_AUTHORIZATIONS: Prisma.UserAuthorizationOrderByWithRelationInput[] = [{ grantedAt: 'desc' }, { id: 'asc' }];
export const RECENT_TOKENS: Prisma.TokenOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { id: 'asc' }];

/** A consent that has not been withdrawn. */
export const authorizationInForce = { revokedAt: null } satisfies Prisma.UserAuthorizationWhereInput;

export type AuthorizationWithClient = UserAuthorization & { client: OAuthClient };

/** About the `currentPassword` input, so a form shows it next to that field. */
class WrongCurrentPassword extends BadInput {
  constructor() {
    super('The current password is not correct.', 'currentPassword');
  }
}

/** The length rule of every password, reported on this input's own field (`newPassword`). */
function checkNewPassword(password: string): string {
  try {
    return checkPassword(password);
  } catch (err) {
    if (err instanceof BadInput) throw new BadInput(err.message, 'newPassword');
    throw err;
  }
}

export class AccountService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    /** The sign-in guessing policy: proving the current password counts against the same account limit. */
    private readonly guessing: AttemptPolicy,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
    private readonly browserSessions: SessionService,
    private readonly passwords: PasswordHasher,
  ) {}

  /** Apps the user has let in (consent page or device approval) and not withdrawn. */
  authorizationsWhere(userId: string): Prisma.UserAuthorizationWhereInput {
    return { userId, ...authorizationInForce };
  }

  /** Tokens that work now: active and unexpired. */
  tokensWhere(userId: string, now = new Date()): Prisma.TokenWhereInput {
    return { userId, status: 'active', expiresAt: { gt: now } };
  }

  /** Browser sessions that have not ended, most recently used first. Session ids are the stored SHA-256 of the cookie's id. */
  sessions(userId: string): Promise<SessionMeta[]> {
    return this.browserSessions.listForUser(userId);
  }

  authorizations(userId: string): Promise<AuthorizationWithClient[]> {
    return this.db.userAuthorization.findMany({ where: this.authorizationsWhere(userId), include: { client: true }, orderBy: RECENT_AUTHORIZATIONS });
  }

  tokens(userId: string): Promise<(Token & { client: OAuthClient })[]> {
    return this.db.token.findMany({ where: this.tokensWhere(userId), include: { client: true }, orderBy: RECENT_TOKENS });
  }

  /** Ends one of the user's sessions (or, for an admin, anyone's: `ownerId` undefined). */
  async revokeSession(sessionId: string, actor: Actor, req: RequestInfo, ownerId?: string): Promise<void> {
    const session = await this.browserSessions.find(sessionId);
    if (!session || session.userId === null || (ownerId !== undefined && session.userId !== ownerId)) throw new NotFound('session not found');
    const entry = {
      eventType: 'SESSION_REVOKED',
      severity: ownerId === undefined ? 'WARNING' : 'INFO',
      actor,
      subject: { type: 'user', id: session.userId },
      request: req,
      details: { reason: ownerId === undefined ? 'admin_request' : 'owner_request', sessions_ended: 1 },
    } as const;
    const store = this.browserSessions.store;
    if (store.kind === 'database') {
      await this.db.$transaction(async (tx) => {
        const { count } = await tx.session.deleteMany({ where: { id: sessionId, userId: session.userId } });
        if (count === 0) throw new NotFound('session not found');
        await this.audit.recordIn(tx, entry);
      });
    } else {
      // Ended first, then recorded: only a session that was ended is audited.
      if (!(await store.endOne(sessionId, session.userId))) throw new NotFound('session not found');
      await this.audit.recordIn(this.db, entry);
    }
    this.metrics.sessionsInvalidated.inc({ reason: ownerId === undefined ? 'admin' : 'user_request' });
  }

  /** Ends every session of the user but the one asking (`keepSessionId`; none when called with a Bearer token). */
  async revokeOtherSessions(userId: string, keepSessionId: string | undefined, actor: Actor, req: RequestInfo): Promise<number> {
    const { sessionsEnded: ended } = await this.browserSessions.endForUserWith(
      (fn) => this.db.$transaction(fn),
      userId,
      { except: keepSessionId },
      async () => undefined,
      {
        log: this.audit,
        entry: (_r, count) => ({
          eventType: 'SESSIONS_REVOKED',
          actor,
          subject: { type: 'user', id: userId },
          request: req,
          details: { reason: 'owner_request', sessions_ended: count },
        }),
      },
      this.db,
    );
    if (ended > 0) this.metrics.sessionsInvalidated.inc({ reason: 'user_request' }, ended);
    return ended;
  }

  /**
   * An administrator withdraws a user's consent to a client: the consent is marked revoked and every
   * token of that user for that client ends, in one transaction.
   */
  async revokeAuthorizationAsAdmin(authorizationId: string, actor: Actor, req: RequestInfo): Promise<{ authorization: AuthorizationWithClient; tokensRevoked: number }> {
    const authorization = await this.db.userAuthorization.findUnique({ where: { id: authorizationId }, include: { client: true } });
    if (!authorization) throw new NotFound('authorization not found');
    const now = new Date();
    const tokensRevoked = await this.db.$transaction(async (tx) => {
      await tx.userAuthorization.updateMany({ where: { id: authorization.id, revokedAt: null }, data: { revokedAt: now } });
      const count = await revokeTokensWhere(tx, { userId: authorization.userId, clientId: authorization.clientId });
      await this.audit.recordIn(tx, {
        eventType: 'AUTHORIZATION_REVOKED',
        severity: 'WARNING',
        actor,
        subject: { type: 'user_authorization', id: authorization.id },
        clientId: authorization.client.clientId,
        request: req,
        details: { reason: 'admin_request', user_id: authorization.userId, tokens_revoked: count },
      });
      return count;
    });
    this.metrics.tokensRevokedFor('admin', tokensRevoked);
    await this.caches.tokensChanged();
    return { authorization: { ...authorization, revokedAt: authorization.revokedAt ?? now }, tokensRevoked };
  }

  /**
   * Local users only. The current password must be right; the new one replaces it and every other
   * session ends (someone who knew the old password may be signed in elsewhere), in one transaction.
   */
  async changePassword(
    userId: string,
    input: { currentPassword: string; newPassword: string },
    keepSessionId: string | undefined,
    req: RequestInfo,
  ): Promise<{ sessionsEnded: number }> {
    const user = await this.db.user.findUnique({ where: { id: userId } });
    if (!user || !user.active) throw new NotFound('user not found');
    if (user.authSource !== 'local' || !user.passwordHash) {
      const where = user.authSource === 'http_api' ? "through your organisation's sign-in service, where its password is managed" : `through ${user.authSource}`;
      throw new BadInput(user.authSource === 'local' ? 'this account has no password here to change' : `this account signs in elsewhere (${where}); its password cannot be changed here`);
    }
    const currentHash = user.passwordHash;
    // Limited like a sign-in, counted before the check: a stolen session must not become a way to
    // guess the password (and then lock its owner out by changing it).
    await this.guessing.guard(
      { subject: user.username.toLowerCase(), address: req.ip ?? 'unknown' },
      { actor: { userId: user.id, username: user.username }, request: req },
      async () => {
        if (await this.passwords.compare(input.currentPassword, currentHash)) return;
        this.audit.record({
          eventType: 'PASSWORD_CHANGE_FAILED',
          severity: 'WARNING',
          success: false,
          actor: { userId: user.id, username: user.username },
          subject: { type: 'user', id: user.id },
          request: req,
          details: { reason: 'wrong_current_password' },
        });
        throw new WrongCurrentPassword();
      },
      (err) => err instanceof WrongCurrentPassword,
    );
    const passwordHash = await this.passwords.hash(checkNewPassword(input.newPassword));
    const { sessionsEnded } = await this.browserSessions.endForUserWith(
      (fn) => this.db.$transaction(fn),
      user.id,
      { except: keepSessionId },
      async (tx) => {
        // Conditional on the hash just checked: of two concurrent changes only one applies.
        const changed = await tx.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash } });
        if (changed.count !== 1) throw new BadInput('the password was changed meanwhile; sign in again and retry');
      },
      {
        log: this.audit,
        entry: (_r, count) => ({
          eventType: 'PASSWORD_CHANGED',
          severity: 'WARNING',
          actor: { userId: user.id, username: user.username },
          subject: { type: 'user', id: user.id },
          request: req,
          details: { reason: 'owner_request', sessions_ended: count },
        }),
      },
      this.db,
    );
    if (sessionsEnded > 0) this.metrics.sessionsInvalidated.inc({ reason: 'security' }, sessionsEnded);
    await this.caches.userChanged(user.id);
    return { sessionsEnded };
  }
}
