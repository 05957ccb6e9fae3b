// Administering issued tokens: finding them, following their lineage, and putting them on hold,
// lifting the hold or ending them. Revoked is final: a disabled token can be enabled again, a
// revoked one never (the conditional updates below let the database decide when two admins race).
import type { Db, Prisma, Token } from '../db/client.js';
import { Conflict, NotFound } from '../domain/errors.js';
import type { Caches } from '../ops/cache.js';
import type { TokenCategory, TokenStatus } from '../generated/sqlite/enums.js';
import type { Metrics } from '../ops/metrics.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import type { Actor, RevocationService } from './revocation.js';
import { revokeTokensWhere } from './tokens.js';

export interface TokenFilter {
  /** User row id. */
  userId?: string;
  /** OAuthClient row id (not the public client_id). */
  clientId?: string;
  category?: TokenCategory;
  status?: TokenStatus;
}

/** `status: active` means usable now: not disabled, not revoked and not expired. */
export function tokenFilterWhere(filter: TokenFilter, now = new Date()): Prisma.TokenWhereInput {
  const where: Prisma.TokenWhereInput = {};
  if (filter.userId) where.userId = filter.userId;
  if (filter.clientId) where.clientId = filter.clientId;
  if (filter.category) where.category = filter.category;
  if (filter.status) where.status = filter.status;
  if (filter.status === 'active') where.expiresAt = { gt: now };
  return where;
}

/**
 * Lineage order: the order tokens were issued in. A refresh token and the access token issued with it
 * are written by one statement with one timestamp; the refresh token comes first (the access token
 * names it as parent), so category breaks that tie (refresh sorts after access in both dialects'
 * enum and text order, hence desc), then id.
 */
export const ISSUE_ORDER: Prisma.TokenOrderByWithRelationInput[] = [{ createdAt: 'asc' }, { category: 'desc' }, { id: 'asc' }];

export class TokenAdminService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly revocation: RevocationService,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
  ) {}

  /** Every token of the token's rotation family, in issue order. */
  family(familyId: string): Promise<Token[]> {
    return this.db.token.findMany({ where: { familyId }, orderBy: ISSUE_ORDER });
  }

  /**
   * Ends one token for good. A refresh token takes its family with it, as at the revocation endpoint
   * (RFC 7009 §2.1): the access tokens issued from it must not outlive it.
   */
  async revoke(tokenId: string, actor: Actor, req: RequestInfo, scope: { userId?: string } = {}): Promise<{ token: Token; tokensRevoked: number }> {
    const token = await this.find(tokenId, scope);
    const clientId = await this.publicClientId(token.clientId);
    const tokensRevoked = await this.db.$transaction(async (tx) => {
      const count = await revokeTokensWhere(tx, token.category === 'refresh' ? { familyId: token.familyId } : { id: token.id });
      await this.audit.recordIn(tx, {
        eventType: 'TOKEN_REVOKED',
        severity: 'WARNING',
        actor,
        subject: { type: 'token', id: token.id },
        clientId,
        request: req,
        details: {
          reason: scope.userId ? 'owner_request' : 'admin_request',
          category: token.category,
          family_id: token.familyId,
          before: token.status,
          tokens_revoked: count,
        },
      });
      return count;
    });
    this.metrics.tokensRevokedFor(scope.userId ? 'user_request' : 'admin', tokensRevoked);
    await this.caches.tokensChanged();
    return { token: await this.db.token.findUniqueOrThrow({ where: { id: token.id } }), tokensRevoked };
  }

  /** Puts an active token on hold. Disabling a disabled token changes nothing; a revoked one is a Conflict. */
  disable(tokenId: string, actor: Actor, req: RequestInfo): Promise<Token> {
    return this.setHold(tokenId, 'active', 'disabled', actor, req);
  }

  /** Lifts the hold. A revoked token can never be enabled again (Conflict). */
  enable(tokenId: string, actor: Actor, req: RequestInfo): Promise<Token> {
    return this.setHold(tokenId, 'disabled', 'active', actor, req);
  }

  /** Ends every token of the family the token belongs to (the investigator's "end everything it spawned"). */
  async revokeFamilyOf(tokenId: string, actor: Actor, req: RequestInfo): Promise<{ familyId: string; tokensRevoked: number }> {
    const token = await this.find(tokenId);
    const { tokensRevoked } = await this.revocation.revokeFamily(token.familyId, actor, req);
    return { familyId: token.familyId, tokensRevoked };
  }

  private async setHold(tokenId: string, from: 'active' | 'disabled', to: 'active' | 'disabled', actor: Actor, req: RequestInfo): Promise<Token> {
    const token = await this.find(tokenId);
    const clientId = await this.publicClientId(token.clientId);
    await this.db.$transaction(async (tx) => {
      // Conditional: if a revocation lands first, this matches nothing and the token stays revoked.
      const result = await tx.token.updateMany({ where: { id: token.id, status: from }, data: { status: to } });
      if (result.count === 0) {
        const now = await tx.token.findUniqueOrThrow({ where: { id: token.id } });
        if (now.status === 'revoked') throw new Conflict(`the token is revoked; a revoked token cannot be ${to === 'active' ? 'enabled' : 'disabled'}`);
        return; // already in the wanted state: nothing changed, nothing to audit
      }
      await this.audit.recordIn(tx, {
        eventType: to === 'disabled' ? 'TOKEN_DISABLED' : 'TOKEN_ENABLED',
        severity: 'WARNING',
        actor,
        subject: { type: 'token', id: token.id },
        clientId,
        request: req,
        details: { category: token.category, family_id: token.familyId, before: from, after: to },
      });
    });
    await this.caches.tokensChanged();
    return this.db.token.findUniqueOrThrow({ where: { id: token.id } });
  }

  /** NotFound for a missing token and, when `scope.userId` is given, for another user's token alike. */
  private async find(tokenId: string, scope: { userId?: string } = {}): Promise<Token> {
    const token = await this.db.token.findUnique({ where: { id: tokenId } });
    if (!token || (scope.userId !== undefined && token.userId !== scope.userId)) throw new NotFound('token not found');
    return token;
  }

  private async publicClientId(clientRowId: string): Promise<string | null> {
    const client = await this.db.oAuthClient.findUnique({ where: { id: clientRowId }, select: { clientId: true } });
    return client?.clientId ?? null;
  }
}
