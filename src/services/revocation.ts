// Token revocation: by a client (RFC 7009), by a user withdrawing a consent, by an administrator
// cutting a client or a user off, and of one rotation family. Revocation is permanent: a revoked token never becomes active again.
import type { Db, OAuthClient } from '../db/client.js';
import { writeTransaction, type Dialect } from '../db/transactions.js';
import { sha256Hex } from '../domain/crypto.js';
import { NotFound, UnsupportedTokenType } from '../domain/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Caches } from '../ops/cache.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import { revokeGrantTokens, withdrawGrant, type Withdrawn } from './grant-withdrawal.js';
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
    private readonly dialect: Dialect,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
  ) {}

  /**
   * RFC 7009 §2.1. The token is found by the hash of its value: the hash is unique across access and
   * refresh tokens, so one indexed lookup answers whatever the hint says. The hint is therefore only
   * recorded, never trusted (a wrong hint must not stop a revocation, §2.1). A refresh token takes its
   * whole family with it (§2.1: the server SHOULD revoke the access tokens issued from it); an access
   * token is revoked alone.
   *
   * `client` is the authenticated caller, or null when the request carried no client credentials:
   * possession of a token is enough to give it up (revoking only ever removes access, and a token
   * value is an unguessable secret), which is how AuthGate and its SDKs revoke. A caller that did
   * authenticate may only revoke its own client's tokens.
   */
  async revokeToken(value: string, client: OAuthClient | null, hint: TokenTypeHint | undefined, req: RequestInfo): Promise<RevokeTokenResult> {
    const row = await this.db.token.findUnique({ where: { tokenHash: sha256Hex(value) }, include: { client: true } });
    if (!row) return { outcome: 'unknown', tokensRevoked: 0 };
    const clientAuthenticated = client !== null;
    if (client && row.clientId !== client.id) {
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
        details: { reason: 'token_belongs_to_another_client', category: row.category, token_type_hint: hint ?? null, client_authenticated: true },
      });
      return { outcome: 'other_client', tokensRevoked: 0 };
    }
    const count = await writeTransaction(this.db, this.dialect, (tx) =>
      row.category === 'refresh' ? revokeGrantTokens(tx, { familyId: row.familyId }) : revokeTokensWhere(tx, { id: row.id }),
    );
    if (count === 0) return { outcome: 'already_inactive', tokensRevoked: 0 };
    this.metrics.tokensRevokedFor('user_request', count);
    await this.caches.tokensChanged();
    this.audit.record({
      eventType: 'TOKEN_REVOKED',
      actor: { userId: row.userId },
      subject: { type: 'token', id: row.id },
      // The token's own client either way: when the caller authenticated, it is that client.
      clientId: row.client.clientId,
      request: req,
      details: {
        reason: clientAuthenticated ? 'client_request' : 'token_holder_request',
        client_authenticated: clientAuthenticated,
        category: row.category,
        token_type_hint: hint ?? null,
        family_id: row.familyId,
        tokens_revoked: count,
      },
    });
    return { outcome: 'revoked', tokensRevoked: count };
  }

  /**
   * A user withdraws the consent they gave a client: the consent record is marked revoked, every token
   * of that user for that client stops working whichever grant produced it, and codes not yet exchanged
   * (authorization codes, approved device codes) are withdrawn with it.
   * Throws NotFound when the authorization does not exist or is another user's (the same error, so
   * ids of other users' authorizations cannot be probed).
   */
  async revokeUserAuthorization(userId: string, userAuthorizationId: string, req: RequestInfo): Promise<Withdrawn> {
    const authorization = await this.db.userAuthorization.findUnique({ where: { id: userAuthorizationId }, include: { client: true, user: true } });
    if (!authorization || authorization.userId !== userId) throw new NotFound('authorization not found');
    const now = new Date();
    const withdrawn = await writeTransaction(this.db, this.dialect, async (tx) => {
      // The parent row first, always written (its lock orders us against issuers, grant-validity.ts);
      // a consent already withdrawn keeps its first revocation time, and is swept again anyway.
      const current = await tx.userAuthorization.findUnique({ where: { id: authorization.id } });
      if (!current) return null;
      await tx.userAuthorization.update({ where: { id: authorization.id }, data: { revokedAt: current.revokedAt ?? now } });
      return withdrawGrant(tx, { userId, clientId: authorization.clientId }, now);
    });
    if (!withdrawn) throw new NotFound('authorization not found');
    this.metrics.tokensRevokedFor('user_request', withdrawn.tokensRevoked);
    await this.caches.tokensChanged();
    this.audit.record({
      eventType: 'AUTHORIZATION_REVOKED',
      actor: { userId, username: authorization.user.username },
      subject: { type: 'user_authorization', id: authorization.id },
      clientId: authorization.client.clientId,
      request: req,
      details: { reason: 'user_request', ...auditCounts(withdrawn) },
    });
    return withdrawn;
  }

  /**
   * An administrator's "revoke all" for a client (e.g. a leaked secret): every token the client holds
   * stops working, codes not yet exchanged are withdrawn, and every user's consent to it is withdrawn,
   * so users are asked again next time. The client stays active: what it obtains afterwards is new.
   * `clientRowId` is the OAuthClient row id, not the public client_id. Throws NotFound for an unknown client.
   */
  async revokeAllForClient(clientRowId: string, actor: Actor, req: RequestInfo): Promise<Withdrawn & { authorizationsRevoked: number }> {
    const client = await this.db.oAuthClient.findUnique({ where: { id: clientRowId } });
    if (!client) throw new NotFound('client not found');
    const now = new Date();
    const counts = await writeTransaction(this.db, this.dialect, async (tx) => {
      // Touching the client row takes its lock, so issuers (FOR SHARE on it) are ordered before or after us.
      await tx.oAuthClient.update({ where: { id: client.id }, data: { updatedAt: now } });
      const authorizations = await tx.userAuthorization.updateMany({ where: { clientId: client.id, revokedAt: null }, data: { revokedAt: now } });
      return { ...(await withdrawGrant(tx, { clientId: client.id }, now)), authorizationsRevoked: authorizations.count };
    });
    this.metrics.tokensRevokedFor('admin', counts.tokensRevoked);
    await this.caches.clientChanged(client);
    await this.caches.tokensChanged();
    // Written at once: a mass revocation is exactly the event an investigation will look for.
    await this.audit.recordNow({
      eventType: 'CLIENT_TOKENS_REVOKED',
      severity: 'WARNING',
      actor: { userId: actor.userId, username: actor.username },
      subject: { type: 'client', id: client.id },
      clientId: client.clientId,
      request: req,
      details: { reason: 'admin_revoke_all', ...auditCounts(counts), authorizations_revoked: counts.authorizationsRevoked },
    });
    return counts;
  }

  /**
   * Everything a user holds stops working for good: tokens, unused authorization codes, approved device
   * codes. With `disable`, the user is disabled in the same transaction (what disabling a user calls),
   * so a user enabled again later does not get old tokens back. Throws NotFound for an unknown user.
   */
  async revokeAllForUser(userId: string, actor: Actor, req: RequestInfo, opts: { disable?: boolean } = {}): Promise<Withdrawn> {
    const now = new Date();
    const withdrawn = await writeTransaction(this.db, this.dialect, async (tx) => {
      // The user row first: issuers hold FOR SHARE on it while they check that the user is active.
      const changed = await tx.user.updateMany({ where: { id: userId }, data: opts.disable ? { active: false, updatedAt: now } : { updatedAt: now } });
      if (changed.count !== 1) return null;
      return withdrawGrant(tx, { userId }, now);
    });
    if (!withdrawn) throw new NotFound('user not found');
    this.metrics.tokensRevokedFor('admin', withdrawn.tokensRevoked);
    await this.caches.userChanged(userId);
    await this.caches.tokensChanged();
    await this.audit.recordNow({
      eventType: 'USER_TOKENS_REVOKED',
      severity: 'WARNING',
      actor: { userId: actor.userId, username: actor.username },
      subject: { type: 'user', id: userId },
      request: req,
      details: { reason: opts.disable ? 'user_disabled' : 'admin_revoke_all', ...auditCounts(withdrawn) },
    });
    return withdrawn;
  }

  /**
   * A user ends their own tokens: all of them, or only those one client holds (`clientRowId`, the
   * OAuthClient row id). Unused authorization codes and approved device codes not yet collected go
   * too, or a device could still pick up a fresh token after "sign out everywhere". Consents stay:
   * the apps keep their permission and must sign the user in again, which is what the user asked.
   * Throws NotFound for an unknown user or client.
   */
  async revokeOwnTokens(userId: string, clientRowId: string | undefined, actor: Actor, req: RequestInfo): Promise<Withdrawn> {
    const client = clientRowId ? await this.db.oAuthClient.findUnique({ where: { id: clientRowId }, select: { id: true, clientId: true } }) : null;
    if (clientRowId && !client) throw new NotFound('client not found');
    const now = new Date();
    const withdrawn = await writeTransaction(this.db, this.dialect, async (tx) => {
      // The user row first, as when an admin revokes all: issuers hold FOR SHARE on it, so each one is
      // ordered entirely before this sweep (which then finds its tokens) or after it.
      const changed = await tx.user.updateMany({ where: { id: userId }, data: { updatedAt: now } });
      if (changed.count !== 1) return null;
      const counts = await withdrawGrant(tx, client ? { userId, clientId: client.id } : { userId }, now);
      await this.audit.recordIn(tx, {
        eventType: 'USER_TOKENS_REVOKED',
        actor: { userId: actor.userId, username: actor.username },
        subject: { type: 'user', id: userId },
        clientId: client?.clientId ?? null,
        request: req,
        details: { reason: 'owner_request', scope: client ? 'client' : 'all', ...auditCounts(counts) },
      });
      return counts;
    });
    if (!withdrawn) throw new NotFound('user not found');
    this.metrics.tokensRevokedFor('user_request', withdrawn.tokensRevoked);
    await this.caches.userChanged(userId);
    await this.caches.tokensChanged();
    return withdrawn;
  }

  /**
   * Ends one rotation family (a leaked token and everything it spawned), as an investigator does from
   * token lineage. Throws NotFound when no token has that family id.
   */
  async revokeFamily(familyId: string, actor: Actor, req: RequestInfo): Promise<{ tokensRevoked: number }> {
    const member = await this.db.token.findFirst({ where: { familyId }, include: { client: true } });
    if (!member) throw new NotFound('token family not found');
    const tokensRevoked = await writeTransaction(this.db, this.dialect, (tx) => revokeGrantTokens(tx, { familyId }));
    this.metrics.tokensRevokedFor('admin', tokensRevoked);
    await this.caches.tokensChanged();
    await this.audit.recordNow({
      eventType: 'TOKEN_FAMILY_REVOKED',
      severity: 'WARNING',
      actor: { userId: actor.userId, username: actor.username },
      subject: { type: 'token_family', id: familyId },
      clientId: member.client.clientId,
      request: req,
      details: { reason: 'admin_request', tokens_revoked: tokensRevoked },
    });
    return { tokensRevoked };
  }
}

function auditCounts(w: Withdrawn) {
  return { tokens_revoked: w.tokensRevoked, authorization_codes_revoked: w.authorizationCodesRevoked, device_codes_revoked: w.deviceCodesRevoked };
}
