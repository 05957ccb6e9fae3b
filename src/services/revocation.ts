// Token revocation: by a client (RFC 7009), by a user withdrawing a consent, and by an administrator
// cutting a client off. Revocation is permanent: a revoked token never becomes active again.
import type { Db, OAuthClient } from '../db/client.js';
import { sha256Hex } from '../domain/crypto.js';
import { NotFound, UnsupportedTokenType } from '../domain/errors.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import { revokeTokensWhere } from './tokens.js';

export type TokenTypeHint = 'access_token' | 'refresh_token';

/** Validates token_type_hint (RFC 7009 §2.1). Absent is fine; a value we do not know is an error. */
export function parseTokenTypeHint(value: string | undefined): TokenTypeHint | undefined {
  if (value === undefined) return undefined;
  if (value === 'access_token' || value === 'refresh_token') return value;
  throw new UnsupportedTokenType(`token_type_hint "${value}" is not supported`);
}

/** What happened to a revocation request. The endpoint answers 200 for every outcome (RFC 7009 §2.2). */
export type RevokeOutcome = 'revoked' | 'unknown' | 'already_inactive' | 'other_client';

export interface RevokeTokenResult {
  outcome: RevokeOutcome;
  /** How many token rows changed to `revoked`. */
  tokensRevoked: number;
}

/** Who did it, for the audit log (an administrator, or a user acting on their own account). */
export interface Actor {
  userId?: string | null;
  username?: string | null;
}

export class RevocationService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
  ) {}

  /**
   * RFC 7009 §2.1 on behalf of an authenticated client. The token is found by the hash of its value:
   * the hash is unique across access and refresh tokens, so one indexed lookup answers whatever the
   * hint says. The hint is therefore only recorded, never trusted (a wrong hint must not stop a
   * revocation, §2.1). A refresh token takes its whole family with it (§2.1: the server SHOULD revoke
   * the access tokens issued from it); an access token is revoked alone.
   */
  async revokeToken(value: string, client: OAuthClient, hint: TokenTypeHint | undefined, req: RequestInfo): Promise<RevokeTokenResult> {
    const row = await this.db.token.findUnique({ where: { tokenHash: sha256Hex(value) } });
    if (!row) return { outcome: 'unknown', tokensRevoked: 0 };
    if (row.clientId !== client.id) {
      // §2.1: the server verifies the token was issued to the requesting client. Answering exactly as
      // for an unknown token keeps a client from learning whether someone else's token exists.
      this.audit.record({
        eventType: 'TOKEN_REVOCATION_REFUSED',
        severity: 'WARNING',
        success: false,
        actor: { userId: row.userId },
        subject: { type: 'token', id: row.id },
        clientId: client.clientId,
        request: req,
        details: { reason: 'token_belongs_to_another_client', category: row.category, token_type_hint: hint ?? null },
      });
      return { outcome: 'other_client', tokensRevoked: 0 };
    }
    const count = await revokeTokensWhere(this.db, row.category === 'refresh' ? { familyId: row.familyId } : { id: row.id });
    if (count === 0) return { outcome: 'already_inactive', tokensRevoked: 0 };
    this.audit.record({
      eventType: 'TOKEN_REVOKED',
      actor: { userId: row.userId },
      subject: { type: 'token', id: row.id },
      clientId: client.clientId,
      request: req,
      details: { reason: 'client_request', category: row.category, token_type_hint: hint ?? null, family_id: row.familyId, tokens_revoked: count },
    });
    return { outcome: 'revoked', tokensRevoked: count };
  }

  /**
   * A user withdraws the consent they gave a client: the consent record is marked revoked and every
   * token of that user for that client stops working, whichever grant produced it.
   * Throws NotFound when the authorization does not exist or is another user's (the same error, so
   * ids of other users' authorizations cannot be probed).
   */
  async revokeUserAuthorization(userId: string, userAuthorizationId: string, req: RequestInfo): Promise<{ tokensRevoked: number }> {
    const authorization = await this.db.userAuthorization.findUnique({ where: { id: userAuthorizationId }, include: { client: true, user: true } });
    if (!authorization || authorization.userId !== userId) throw new NotFound('authorization not found');
    const now = new Date();
    const tokensRevoked = await this.db.$transaction(async (tx) => {
      // Keep the first revocation time if it was already revoked; the tokens are swept again anyway,
      // since a grant could have issued new ones since.
      await tx.userAuthorization.updateMany({ where: { id: authorization.id, revokedAt: null }, data: { revokedAt: now } });
      return revokeTokensWhere(tx, { userId, clientId: authorization.clientId });
    });
    this.audit.record({
      eventType: 'AUTHORIZATION_REVOKED',
      actor: { userId, username: authorization.user.username },
      subject: { type: 'user_authorization', id: authorization.id },
      clientId: authorization.client.clientId,
      request: req,
      details: { reason: 'user_request', tokens_revoked: tokensRevoked },
    });
    return { tokensRevoked };
  }

  /**
   * An administrator's "revoke all" for a client (e.g. a leaked secret): every token the client holds
   * stops working and every user's consent to it is withdrawn, so users are asked again next time.
   * `clientRowId` is the OAuthClient row id, not the public client_id. Throws NotFound for an unknown client.
   */
  async revokeAllForClient(
    clientRowId: string,
    actor: Actor,
    req: RequestInfo,
  ): Promise<{ tokensRevoked: number; authorizationsRevoked: number }> {
    const client = await this.db.oAuthClient.findUnique({ where: { id: clientRowId } });
    if (!client) throw new NotFound('client not found');
    const now = new Date();
    const counts = await this.db.$transaction(async (tx) => {
      const tokensRevoked = await revokeTokensWhere(tx, { clientId: client.id });
      const authorizations = await tx.userAuthorization.updateMany({ where: { clientId: client.id, revokedAt: null }, data: { revokedAt: now } });
      return { tokensRevoked, authorizationsRevoked: authorizations.count };
    });
    // Written at once: a mass revocation is exactly the event an investigation will look for.
    await this.audit.recordNow({
      eventType: 'CLIENT_TOKENS_REVOKED',
      severity: 'WARNING',
      actor: { userId: actor.userId, username: actor.username },
      subject: { type: 'client', id: client.id },
      clientId: client.clientId,
      request: req,
      details: { reason: 'admin_revoke_all', tokens_revoked: counts.tokensRevoked, authorizations_revoked: counts.authorizationsRevoked },
    });
    return counts;
  }

  /**
   * Every token of a user stops working, whichever client holds it (an administrator disabling the
   * user, a compromised account). Revoked tokens stay revoked when the user is enabled again.
   */
  async revokeAllForUser(userId: string, actor: Actor, req: RequestInfo): Promise<{ tokensRevoked: number }> {
    const tokensRevoked = await this.db.$transaction(async (tx) => {
      const count = await revokeTokensWhere(tx, { userId });
      await this.audit.recordIn(tx, {
        eventType: 'USER_TOKENS_REVOKED',
        severity: 'WARNING',
        actor: { userId: actor.userId, username: actor.username },
        subject: { type: 'user', id: userId },
        request: req,
        details: { reason: 'admin_revoke_all', tokens_revoked: count },
      });
      return count;
    });
    return { tokensRevoked };
  }

  /** Every token of one rotation family (a refresh token and all that was issued from it). */
  async revokeFamily(familyId: string, actor: Actor, req: RequestInfo): Promise<{ tokensRevoked: number }> {
    const tokensRevoked = await this.db.$transaction(async (tx) => {
      const count = await revokeTokensWhere(tx, { familyId });
      await this.audit.recordIn(tx, {
        eventType: 'TOKEN_FAMILY_REVOKED',
        severity: 'WARNING',
        actor: { userId: actor.userId, username: actor.username },
        subject: { type: 'token_family', id: familyId },
        request: req,
        details: { reason: 'admin_request', tokens_revoked: count },
      });
      return count;
    });
    return { tokensRevoked };
  }
}
