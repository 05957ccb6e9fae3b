// Issues, refreshes and validates tokens. Access tokens are JWTs (RFC 9068 shape, `typ: at+jwt`);
// refresh tokens are opaque random strings. Every token is recorded by the SHA-256 of its value,
// never the value, so it can be listed, introspected and revoked.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/env.js';
import type { Db, OAuthClient, Prisma, Token, User } from '../db/client.js';
import { randomToken, sha256Hex } from '../domain/crypto.js';
import { InvalidGrant, InvalidScope, InvalidToken } from '../domain/errors.js';
import { selectResources } from '../domain/resources.js';
import { formatScope, parseScope, scopesOutside } from '../domain/scopes.js';
import type { JwtSigner } from '../keys/jwt.js';
import type { AuditLog } from './audit.js';
import type { IdTokenService } from './id-tokens.js';
import type { RequestInfo } from './request-context.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';

export interface IssuedTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope: string;
}

/** What a grant decided: who gets a token, for which client, with which scopes and audience. */
export interface Grant {
  client: OAuthClient;
  user: User | null;
  scopes: string[];
  /** RFC 8707 resources the access token is for; empty means this server itself. */
  resources: string[];
  /** Everything the user authorized (RFC 8707 §2.2): kept on the refresh token, so later refreshes may pick among them. */
  grantedResources?: string[];
  grantType: string;
  authTime?: Date;
  sourceCode?: string;
  /** OIDC nonce from the authorization request, echoed in the ID Token. */
  nonce?: string;
}

export interface ActiveAccessToken {
  token: Token & { user: User | null; client: OAuthClient };
  claims: Record<string, unknown>;
}

export class TokenService {
  constructor(
    private readonly db: Db,
    private readonly signer: JwtSigner,
    private readonly config: Pick<Config, 'baseUrl' | 'jwt' | 'refreshTokens' | 'tokenProfiles' | 'clientCredentialsExpiration'>,
    private readonly audit: AuditLog,
    private readonly idTokens: IdTokenService,
  ) {}

  /** Issues an access token, and a refresh token when `withRefresh` and refresh tokens are enabled. */
  async issue(grant: Grant, opts: { withRefresh: boolean }, req: RequestInfo): Promise<IssuedTokens> {
    const familyId = randomUUID();
    const refresh =
      opts.withRefresh && this.config.refreshTokens.enabled
        ? await this.createRefreshToken({ ...grant, resources: grant.grantedResources ?? grant.resources }, familyId, null)
        : null;
    const access = await this.createAccessToken(grant, familyId, refresh?.row.id ?? null);
    this.audit.record({
      eventType: 'ACCESS_TOKEN_ISSUED',
      actor: { userId: grant.user?.id, username: grant.user?.username },
      subject: { type: 'token', id: access.row.id },
      clientId: grant.client.clientId,
      request: req,
      details: { grant_type: grant.grantType, scope: formatScope(grant.scopes), refresh_token_issued: refresh !== null, family_id: familyId },
    });
    return this.response(grant, access, refresh?.value);
  }

  /**
   * The refresh_token grant (RFC 6749 §6). The token must be active, unexpired and bound to the
   * presenting client; scope may be narrowed, never widened; resources must be within what was granted.
   * Rotation mode issues a new refresh token and retires the old one; presenting a retired one again
   * is treated as theft and revokes the whole family (RFC 9700 §4.14.2).
   */
  async refresh(
    presented: string,
    client: OAuthClient,
    requested: { scope?: string; resources: string[] },
    req: RequestInfo,
  ): Promise<IssuedTokens> {
    const row = await this.db.token.findUnique({ where: { tokenHash: sha256Hex(presented) }, include: { user: true } });
    if (!row || row.category !== 'refresh') throw new InvalidGrant('refresh token is invalid');
    if (row.clientId !== client.id) throw new InvalidGrant('refresh token was issued to another client');
    if (row.status !== 'active') {
      // A rotated-away token (it has a successor) coming back means two parties hold it: theft.
      const rotatedAway = row.status === 'revoked' && (await this.db.token.count({ where: { parentId: row.id, category: 'refresh' } })) > 0;
      if (rotatedAway) await this.handleReuse(row, client, req);
      throw new InvalidGrant('refresh token is no longer valid');
    }
    if (row.expiresAt <= new Date()) throw new InvalidGrant('refresh token has expired');
    if (row.user && !row.user.active) throw new InvalidGrant('the user is disabled');

    const granted = parseScope(row.scopes);
    let scopes = granted;
    if (requested.scope !== undefined) {
      scopes = parseScope(requested.scope);
      const extra = scopesOutside(scopes, granted);
      if (extra.length > 0) throw new InvalidScope(`scope exceeds what was granted: ${extra.join(' ')}`);
    }
    const grantedResources = parseScope(row.audience);
    const resources = selectResources(requested.resources, grantedResources);

    const grant: Grant = { client, user: row.user, scopes, resources, grantType: 'refresh_token', authTime: row.authTime ?? undefined };
    let refreshValue: string | undefined;
    let parentId = row.id;
    if (this.config.refreshTokens.rotation) {
      // Conditional update: of two concurrent refreshes with the same token, exactly one wins.
      const retired = await this.db.token.updateMany({
        where: { id: row.id, status: 'active' },
        data: { status: 'revoked', revokedAt: new Date() },
      });
      if (retired.count !== 1) {
        await this.handleReuse(row, client, req);
        throw new InvalidGrant('refresh token is no longer valid');
      }
      // The new refresh token keeps the originally granted scope: narrowing applies to this access token only.
      const next = await this.createRefreshToken({ ...grant, scopes: granted, resources: grantedResources }, row.familyId, row.id, row.expiresAt);
      refreshValue = next.value;
      parentId = next.row.id;
    } else {
      await this.db.token.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } });
    }
    const access = await this.createAccessToken(grant, row.familyId, parentId);
    this.audit.record({
      eventType: 'TOKEN_REFRESHED',
      actor: { userId: row.userId, username: row.user?.username },
      subject: { type: 'token', id: access.row.id },
      clientId: client.clientId,
      request: req,
      details: { scope: formatScope(scopes), rotated: this.config.refreshTokens.rotation, family_id: row.familyId },
    });
    return this.response(grant, access, refreshValue);
  }

  /**
   * Validates an access token for a resource (tokeninfo, userinfo): the signature and type, then the
   * stored record, so a revoked token fails even though its signature is still valid.
   */
  async validateAccessToken(value: string): Promise<ActiveAccessToken> {
    let claims: Record<string, unknown>;
    try {
      claims = await this.signer.verify(value, { typ: ACCESS_TOKEN_TYP, issuer: this.config.baseUrl });
    } catch {
      throw new InvalidToken();
    }
    const jti = typeof claims.jti === 'string' ? claims.jti : '';
    const token = await this.db.token.findUnique({ where: { jti }, include: { user: true, client: true } });
    if (!token || token.category !== 'access' || token.status !== 'active' || token.expiresAt <= new Date()) throw new InvalidToken();
    if (token.tokenHash !== sha256Hex(value)) throw new InvalidToken();
    if ((token.user && !token.user.active) || !token.client.active) throw new InvalidToken();
    return { token, claims };
  }

  /** Revokes every token of a family (a refresh token and what was issued from it). */
  revokeFamily(familyId: string): Promise<number> {
    return revokeTokensWhere(this.db, { familyId });
  }

  private async handleReuse(row: Token, client: OAuthClient, req: RequestInfo): Promise<void> {
    const revoked = await this.revokeFamily(row.familyId);
    await this.audit.recordNow({
      eventType: 'REFRESH_TOKEN_REUSE',
      severity: 'WARNING',
      success: false,
      actor: { userId: row.userId },
      subject: { type: 'token', id: row.id },
      clientId: client.clientId,
      request: req,
      details: { family_id: row.familyId, tokens_revoked: revoked },
    });
  }

  private async createAccessToken(grant: Grant, familyId: string, parentId: string | null) {
    const now = new Date();
    const lifetime = this.accessLifetime(grant);
    const expiresAt = new Date(now.getTime() + lifetime * 1000);
    const jti = randomUUID();
    const subject = grant.user?.id ?? grant.client.clientId;
    const value = await this.signer.sign(
      {
        iss: this.config.baseUrl,
        sub: subject,
        aud: grant.resources.length === 0 ? this.config.baseUrl : grant.resources.length === 1 ? grant.resources[0] : grant.resources,
        client_id: grant.client.clientId,
        scope: formatScope(grant.scopes),
        jti,
        ...(grant.authTime ? { auth_time: Math.floor(grant.authTime.getTime() / 1000) } : {}),
      },
      { typ: ACCESS_TOKEN_TYP, expiresAt, issuedAt: now },
    );
    const row = await this.recordToken(value, 'access', grant, { jti, familyId, parentId, expiresAt });
    return { value, row, lifetime };
  }

  private async createRefreshToken(grant: Grant, familyId: string, parentId: string | null, notAfter?: Date) {
    const value = randomToken(32);
    let expiresAt = new Date(Date.now() + this.config.tokenProfiles[grant.client.tokenProfile].refresh * 1000);
    // A rotated refresh token never outlives the one it replaces: rotation is not a way to extend a grant.
    if (notAfter && notAfter < expiresAt) expiresAt = notAfter;
    const row = await this.recordToken(value, 'refresh', grant, { jti: randomUUID(), familyId, parentId, expiresAt });
    return { value, row };
  }

  /** Stores a token by the hash of its value, never the value. */
  private recordToken(
    value: string,
    category: 'access' | 'refresh',
    grant: Grant,
    lineage: { jti: string; familyId: string; parentId: string | null; expiresAt: Date },
  ): Promise<Token> {
    return this.db.token.create({
      data: {
        tokenHash: sha256Hex(value),
        category,
        scopes: formatScope(grant.scopes),
        audience: formatScope(grant.resources),
        grantType: grant.grantType,
        userId: grant.user?.id ?? null,
        clientId: grant.client.id,
        sourceCode: grant.sourceCode ?? null,
        authTime: grant.authTime ?? null,
        ...lineage,
      },
    });
  }

  /**
   * Lifetimes come from the client's token profile; client credentials have their own. Jitter applies
   * only to the standard profile, where it spreads the expiries of the many tokens issued with the
   * server-wide default (as AuthGate documents JWT_EXPIRATION_JITTER).
   */
  private accessLifetime(grant: Grant): number {
    if (grant.grantType === 'client_credentials') return this.config.clientCredentialsExpiration;
    const profile = grant.client.tokenProfile;
    const base = this.config.tokenProfiles[profile].access;
    return profile === 'standard' ? base + jitterSeconds(this.config.jwt.expirationJitter) : base;
  }

  private async response(grant: Grant, access: { value: string; lifetime: number; row: Token }, refreshValue?: string): Promise<IssuedTokens> {
    // OIDC Core §3.1.3.3 / §12.2: an ID Token accompanies user tokens whenever `openid` was granted.
    const idToken =
      grant.user && grant.scopes.includes('openid')
        ? await this.idTokens.sign({
            user: grant.user,
            client: grant.client,
            scopes: grant.scopes,
            accessToken: access.value,
            authTime: grant.authTime,
            nonce: grant.nonce,
            lifetime: access.lifetime,
          })
        : undefined;
    return {
      access_token: access.value,
      token_type: 'Bearer',
      expires_in: access.lifetime,
      ...(refreshValue ? { refresh_token: refreshValue } : {}),
      ...(idToken ? { id_token: idToken } : {}),
      scope: access.row.scopes,
    };
  }
}

/**
 * What revoking means, in one place: every token matching `where` that is not yet revoked (active, or
 * administratively disabled) becomes revoked for good, so lifting a hold can never resurrect it.
 * Takes the client or a transaction.
 */
export async function revokeTokensWhere(db: Pick<Db, 'token'>, where: Prisma.TokenWhereInput): Promise<number> {
  const result = await db.token.updateMany({ where: { ...where, status: { not: 'revoked' } }, data: { status: 'revoked', revokedAt: new Date() } });
  return result.count;
}

function jitterSeconds(max: number): number {
  return max > 0 ? Math.floor(Math.random() * (max + 1)) : 0;
}
