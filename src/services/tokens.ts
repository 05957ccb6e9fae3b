// Issues, refreshes and validates tokens. Access tokens are JWTs (RFC 9068 shape, `typ: at+jwt`);
// refresh tokens are opaque random strings. Every token is recorded by the SHA-256 of its value,
// never the value, so it can be listed, introspected and revoked.
import type { Config } from '../config/env.js';
import type { Db, OAuthClient, Prisma, Token, User } from '../db/client.js';
import { randomToken, sha256Hex } from '../domain/crypto.js';
import { writeTransaction, type Dialect, type Tx } from '../db/transactions.js';
import type { GroupCommit, Issuance } from '../db/issuance-writer.js';
import { InvalidClient, InvalidGrant, InvalidScope, InvalidToken, type OAuthError } from '../domain/errors.js';
import { timeOrderedId } from '../domain/ids.js';
import { selectResources } from '../domain/resources.js';
import { formatScope, parseScope, scopesOutside } from '../domain/scopes.js';
import type { JwtSigner } from '../keys/jwt.js';
import { secondsSince, type Metrics, type TokenValidation } from '../ops/metrics.js';
import type { Caches } from '../ops/cache.js';
import type { AuditEntry, AuditLog } from './audit.js';
import { clientRefused, clientRefusedEvent, lockAndCheckGrant } from './grant-validity.js';
import { revokeGrantTokens } from './grant-withdrawal.js';
import { openSuccessor, sealSuccessor } from './rotation-grace.js';
import type { IdTokenService } from './id-tokens.js';
import type { RequestInfo } from './request-context.js';

export const ACCESS_TOKEN_TYP = 'at+jwt';

/** Audit events of a detected replay, whose `tokens_revoked` counts as oauth_tokens_revoked_total{reason="security"}. */
export const REUSE_EVENTS: ReadonlySet<string> = new Set(['REFRESH_TOKEN_REUSE', 'AUTHORIZATION_CODE_REUSE']);

/** Whose token it is: a person (`user`) or a client acting for itself (`client`, client_credentials). */
export type SubjectType = 'user' | 'client';

/**
 * The `sub` of an access token, as AuthGate writes it: the user's id, or `client:<client_id>` for a
 * machine token, so a resource server can never mistake a client for a user with the same id. The
 * same value is reported as `user_id` by tokeninfo and introspection.
 */
export function accessTokenSubject(userId: string | null, clientId: string): string {
  return userId ?? `client:${clientId}`;
}

export function subjectType(userId: string | null): SubjectType {
  return userId ? 'user' : 'client';
}

/**
 * What a grant issued: the token values (handed out once, never stored) and what they carry. Each
 * face renders it in its own dialect (the token endpoint as RFC 6749 §5.1 JSON).
 */
export interface TokenSet {
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  refreshToken?: string;
  idToken?: string;
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

/**
 * What a grant redeems (an authorization code, a device code, a refresh token), claimed inside the
 * issuing transaction so that exactly one issuance comes from it.
 */
export interface TokenSource {
  /** Conditional write; false when another issuance (or a revocation) got there first. */
  claim(tx: Tx): Promise<boolean>;
  /** In the same transaction, when the claim lost: what to answer instead (reuse detection revokes here). */
  lost(tx: Tx): Promise<Outcome>;
}

/** How an issuing transaction ended; its audit entry is written after commit. */
export type Outcome = ({ response: TokenSet } | { error: OAuthError }) & { audit?: AuditEntry };

/** A grant refused under the issuing transaction's locks; a refused client is audited as a refused authentication is. */
function refused(error: OAuthError, clientId: string, request: RequestInfo | undefined): Outcome {
  return error instanceof InvalidClient ? { error, audit: clientRefusedEvent(clientId, request) } : { error };
}

interface PreparedIssuance {
  rows: Prisma.TokenCreateManyInput[];
  accessId: string;
  response: TokenSet;
}

export interface ActiveAccessToken {
  token: Token & { user: User | null; client: OAuthClient };
  claims: Record<string, unknown>;
}

export class TokenService {
  constructor(
    private readonly db: Db,
    private readonly signer: JwtSigner,
    private readonly config: Pick<Config, 'baseUrl' | 'jwt' | 'refreshTokens' | 'tokenProfiles' | 'clientCredentialsExpiration' | 'database'>,
    private readonly audit: AuditLog,
    private readonly idTokens: IdTokenService,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
    /** Client-only tokens and their audit events, written in shared transactions (db/issuance-writer.ts). */
    private readonly issuances: GroupCommit<Issuance, boolean>,
  ) {}

  private get dialect(): Dialect {
    return this.config.database.dialect;
  }

  /**
   * Issues an access token, and a refresh token when `withRefresh` and refresh tokens are enabled, as a
   * new family. `source` is what the grant redeems (a code): it is claimed in the same transaction.
   */
  async issue(grant: Grant, opts: { withRefresh: boolean; source?: TokenSource }, req: RequestInfo): Promise<TokenSet> {
    const familyId = timeOrderedId();
    const withRefresh = opts.withRefresh && this.config.refreshTokens.enabled;
    const prepared = await this.prepare(grant, {
      familyId,
      parentId: null,
      refresh: withRefresh ? { ...grant, resources: grant.grantedResources ?? grant.resources } : null,
    });
    // Written with the tokens, in their transaction: a token that was answered is never missing its event.
    const audit: AuditEntry = {
      eventType: 'ACCESS_TOKEN_ISSUED',
      actor: { userId: grant.user?.id, username: grant.user?.username },
      subject: { type: 'token', id: prepared.accessId },
      clientId: grant.client.clientId,
      request: req,
      details: { grant_type: grant.grantType, scope: formatScope(grant.scopes), refresh_token_issued: withRefresh, family_id: familyId },
    };
    const response = await this.commit(grant, prepared, opts.source ?? null, audit);
    this.metrics.tokensIssuedFor(grant.grantType, withRefresh);
    return response;
  }

  /**
   * The refresh_token grant (RFC 6749 §6). The token must be active, unexpired and bound to the
   * presenting client; scope may be narrowed, never widened; resources must be within what was granted.
   * Rotation mode issues a new refresh token and retires the old one; presenting a retired one again
   * is treated as theft and revokes the whole family (RFC 9700 §4.14.2), except within the rotation
   * grace window, when the same successor is returned (see rotation-grace.ts).
   */
  async refresh(
    presented: string,
    client: OAuthClient,
    requested: { scope?: string; resources: string[] },
    req: RequestInfo,
  ): Promise<TokenSet> {
    try {
      const set = await this.refreshGrant(presented, client, requested, req);
      this.metrics.tokensRefreshed.inc({ result: 'success' });
      return set;
    } catch (err) {
      this.metrics.tokensRefreshed.inc({ result: 'error' });
      throw err;
    }
  }

  private async refreshGrant(
    presented: string,
    client: OAuthClient,
    requested: { scope?: string; resources: string[] },
    req: RequestInfo,
  ): Promise<TokenSet> {
    // When the token was presented: the grace window is judged by this, not by when a busy server gets
    // to the replay (waiting for the winner's row lock or a connection must not make a retry a theft).
    const presentedAt = new Date();
    const row = await this.db.token.findUnique({ where: { tokenHash: sha256Hex(presented) }, include: { user: true } });
    if (!row || row.category !== 'refresh') throw new InvalidGrant('refresh token is invalid');
    if (row.clientId !== client.id) throw new InvalidGrant('refresh token was issued to another client');
    if (row.status !== 'active') return this.settleRetired(row, presented, presentedAt, client, req);
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
    const rotation = this.config.refreshTokens.rotation;
    const prepared = await this.prepare(grant, {
      familyId: row.familyId,
      parentId: row.id,
      // The new refresh token keeps the originally granted scope: narrowing applies to this access token only.
      refresh: rotation ? { ...grant, scopes: granted, resources: grantedResources } : null,
      refreshNotAfter: row.expiresAt,
    });
    const grace = this.config.refreshTokens.rotationGrace;
    const now = new Date();
    const source: TokenSource = {
      // Conditional update on the presented token: of concurrent refreshes with it, exactly one wins; its
      // row lock also orders a family revocation after this issuance (grant-withdrawal.ts).
      claim: async (tx) => {
        const data = rotation
          ? {
              status: 'revoked' as const,
              revokedAt: now,
              successorSealed: grace > 0 ? sealSuccessor(prepared.response, presented, row.id) : null,
              successorSealedUntil: grace > 0 ? new Date(now.getTime() + grace * 1000) : null,
            }
          : { lastUsedAt: now };
        return (await tx.token.updateMany({ where: { id: row.id, status: 'active' }, data })).count === 1;
      },
      lost: (tx) => this.retiredOutcome(tx, row, presented, presentedAt, client, req),
    };
    const response = await this.commit(grant, prepared, source, {
      eventType: 'TOKEN_REFRESHED',
      actor: { userId: row.userId, username: row.user?.username },
      subject: { type: 'token', id: prepared.accessId },
      clientId: client.clientId,
      request: req,
      details: { scope: formatScope(scopes), rotated: rotation, family_id: row.familyId },
    });
    this.metrics.tokensIssuedFor('refresh_token', rotation);
    if (rotation) this.metrics.tokensRevokedFor('rotation', 1);
    return response;
  }

  /**
   * Validates an access token for a resource (tokeninfo, userinfo, introspection, GraphQL): the
   * signature and type, then the stored record, so a revoked token fails even though its signature is
   * still valid. The record, its user and its client are read through their caches (the token cache
   * when TOKEN_CACHE_ENABLED), each invalidated by every write that changes it.
   */
  async validateAccessToken(value: string): Promise<ActiveAccessToken> {
    const started = process.hrtime.bigint();
    let result: TokenValidation = 'invalid';
    try {
      const valid = await this.checkAccessToken(value, (expired) => (result = expired ? 'expired' : 'invalid'));
      result = 'valid';
      return valid;
    } finally {
      this.metrics.tokenValidation.count(result);
      this.metrics.tokenValidationDuration.observe({ provider: 'local' }, secondsSince(started));
    }
  }

  /**
   * `refused(expired)` says why before InvalidToken is thrown (for the metrics; callers never learn it).
   * The signature is checked when the token's record is read from the database, that is on a cache
   * miss: a cached record is keyed by the SHA-256 of the whole token value, and is only ever stored
   * after that exact value passed verification, so a hit proves the value is one this server signed
   * (its claims are then read from the payload). The record's status and expiry decide every time.
   */
  private async checkAccessToken(value: string, refused: (expired: boolean) => void): Promise<ActiveAccessToken> {
    let claims: Record<string, unknown> | undefined;
    const tokenHash = sha256Hex(value);
    const token = await this.caches.accessToken(tokenHash, async () => {
      try {
        claims = await this.signer.verify(value, { typ: ACCESS_TOKEN_TYP, issuer: this.config.baseUrl });
      } catch (err) {
        // jose's JWTExpired, wrapped by the signer as its cause.
        const cause = (err as { cause?: { code?: unknown } }).cause;
        refused(cause?.code === 'ERR_JWT_EXPIRED');
        throw new InvalidToken();
      }
      const row = await this.db.token.findUnique({ where: { tokenHash } });
      return row && row.category === 'access' && row.jti === claims.jti ? row : null;
    });
    claims ??= token ? claimsOf(token, value) : undefined;
    if (!token || token.category !== 'access' || token.status !== 'active' || token.expiresAt <= new Date()) {
      refused(Boolean(token && token.status === 'active' && token.expiresAt <= new Date()));
      throw new InvalidToken();
    }
    if (token.tokenHash !== tokenHash || !claims) throw new InvalidToken();
    const [user, client] = await Promise.all([
      token.userId ? this.caches.user(token.userId, () => this.db.user.findUnique({ where: { id: token.userId! } })) : null,
      this.caches.clientById(token.clientId, () => this.db.oAuthClient.findUnique({ where: { id: token.clientId } })),
    ]);
    if ((token.userId && !user?.active) || !client?.active) throw new InvalidToken();
    return { token: withOwners(token, user, client), claims };
  }

  /** Revokes every token of a family (a refresh token and what was issued from it), in one transaction. */
  async revokeFamily(familyId: string): Promise<number> {
    const count = await writeTransaction(this.db, this.dialect, (tx) => revokeGrantTokens(tx, { familyId }));
    await this.caches.tokensChanged();
    return count;
  }

  /**
   * The single issuing transaction every grant goes through: re-check the grant under the database's
   * locks (grant-validity.ts), claim the source with a conditional write, insert the refresh and access
   * rows together. What is refused is answered only after the transaction has committed, so a reuse
   * revocation made inside it is never rolled back.
   */
  private async commit(grant: Grant, prepared: PreparedIssuance, source: TokenSource | null, audit: AuditEntry): Promise<TokenSet> {
    if (!source && !grant.user && prepared.rows.length === 1) {
      // Nothing redeemed, no user: the client is the whole grant, checked by the insert itself, which
      // shares a transaction with the other client-only issuances of the moment (group commit).
      const row = prepared.rows[0]!;
      const auditRow = this.audit.streamRow(audit);
      const written = await this.issuances.submit({
        token: {
          id: row.id!,
          tokenHash: row.tokenHash,
          jti: row.jti,
          scopes: row.scopes,
          audience: row.audience ?? '',
          grantType: row.grantType,
          clientId: row.clientId,
          familyId: row.familyId,
          expiresAt: new Date(row.expiresAt),
          createdAt: new Date(),
        },
        audit: auditRow,
      });
      if (!written) {
        await this.audit.recordNow(clientRefusedEvent(grant.client.clientId, audit.request));
        throw clientRefused();
      }
      if (auditRow) this.audit.announce([auditRow]);
      return prepared.response;
    }
    const outcome = await writeTransaction(this.db, this.dialect, async (tx): Promise<Outcome> => {
      const refusal = await lockAndCheckGrant(tx, this.dialect, { clientId: grant.client.id, userId: grant.user?.id ?? null });
      if (refusal) return refused(refusal, grant.client.clientId, audit.request);
      if (source && !(await source.claim(tx))) return source.lost(tx);
      await tx.token.createMany({ data: prepared.rows });
      await this.audit.recordStreamIn(tx, audit);
      return { response: prepared.response };
    });
    return this.settle(outcome);
  }

  /** A refresh token that is no longer active: a grace replay, a reuse (theft), or simply invalid. */
  private async settleRetired(row: Token, presented: string, presentedAt: Date, client: OAuthClient, req: RequestInfo): Promise<TokenSet> {
    const outcome = await writeTransaction(this.db, this.dialect, async (tx): Promise<Outcome> => {
      const refusal = await lockAndCheckGrant(tx, this.dialect, { clientId: row.clientId, userId: row.userId });
      if (refusal) return refused(refusal, client.clientId, req);
      return this.retiredOutcome(tx, row, presented, presentedAt, client, req);
    });
    return this.settle(outcome);
  }

  private async settle(outcome: Outcome): Promise<TokenSet> {
    // A replayed refresh token or authorization code revoked what it had produced (inside the transaction).
    if (outcome.audit && REUSE_EVENTS.has(outcome.audit.eventType)) this.metrics.tokensRevokedFor('security', Number(outcome.audit.details?.tokens_revoked) || 0);
    // Reuse detection revoked a family: cached token status goes with it.
    if (outcome.audit?.eventType === 'REFRESH_TOKEN_REUSE') await this.caches.tokensChanged();
    // Reuse and grace replays are written at once: they are what an investigation looks for.
    if (outcome.audit) await this.audit.recordNow(outcome.audit);
    if ('error' in outcome) throw outcome.error;
    return outcome.response;
  }

  /** Inside the transaction, after the presented refresh token was found retired (read under the winner's commit). */
  private async retiredOutcome(tx: Tx, row: Token, presented: string, presentedAt: Date, client: OAuthClient, req: RequestInfo): Promise<Outcome> {
    const now = new Date();
    const current = await tx.token.findUnique({ where: { id: row.id } });
    const successor = await tx.token.findFirst({ where: { parentId: row.id, category: 'refresh' }, orderBy: { createdAt: 'desc' } });
    // A rotated-away token (it has a successor) coming back means two parties hold it...
    if (!current || !successor) return { error: new InvalidGrant('refresh token is no longer valid') };
    // ...unless it is the same client retrying within the grace window (presented in it) while the successor is still unused.
    if (current.successorSealed && current.successorSealedUntil && current.successorSealedUntil > presentedAt && successor.status === 'active') {
      const sealed = openSuccessor(current.successorSealed, presented, row.id);
      if (sealed) {
        const elapsed = Math.floor((now.getTime() - (current.revokedAt ?? now).getTime()) / 1000);
        return {
          response: { ...sealed, expiresIn: Math.max(sealed.expiresIn - elapsed, 1) },
          audit: {
            eventType: 'REFRESH_TOKEN_GRACE_REPLAY',
            actor: { userId: row.userId },
            subject: { type: 'token', id: row.id },
            clientId: client.clientId,
            request: req,
            details: { family_id: row.familyId, successor_id: successor.id },
          },
        };
      }
    }
    const revoked = await revokeGrantTokens(tx, { familyId: row.familyId });
    return {
      error: new InvalidGrant('refresh token is no longer valid'),
      audit: {
        eventType: 'REFRESH_TOKEN_REUSE',
        severity: 'WARNING',
        success: false,
        actor: { userId: row.userId },
        subject: { type: 'token', id: row.id },
        clientId: client.clientId,
        request: req,
        details: { family_id: row.familyId, tokens_revoked: revoked },
      },
    };
  }

  /**
   * Signs and lays out everything an issuance writes before its transaction opens, so the transaction
   * holds its locks only for the checks and the inserts. Ids are made here so the lineage links
   * (access → refresh) need no round trip.
   */
  private async prepare(
    grant: Grant,
    opts: { familyId: string; parentId: string | null; refresh: Grant | null; refreshNotAfter?: Date },
  ): Promise<PreparedIssuance> {
    const started = process.hrtime.bigint();
    const rows: Prisma.TokenCreateManyInput[] = [];
    let refreshValue: string | undefined;
    let accessParent = opts.parentId;
    if (opts.refresh) {
      refreshValue = randomToken(32);
      let expiresAt = new Date(Date.now() + this.config.tokenProfiles[grant.client.tokenProfile].refresh * 1000);
      // A rotated refresh token never outlives the one it replaces: rotation is not a way to extend a grant.
      if (opts.refreshNotAfter && opts.refreshNotAfter < expiresAt) expiresAt = opts.refreshNotAfter;
      const id = timeOrderedId();
      rows.push(tokenRow(refreshValue, 'refresh', opts.refresh, { id, jti: timeOrderedId(), familyId: opts.familyId, parentId: opts.parentId, expiresAt }));
      accessParent = id;
    }
    const access = await this.signAccessToken(grant);
    const accessId = timeOrderedId();
    rows.push(tokenRow(access.value, 'access', grant, { id: accessId, jti: access.jti, familyId: opts.familyId, parentId: accessParent, expiresAt: access.expiresAt }));
    const response = await this.response(grant, access, refreshValue);
    this.metrics.tokenGenerationDuration.observe({ provider: 'local' }, secondsSince(started));
    return { rows, accessId, response };
  }

  private async signAccessToken(grant: Grant) {
    const now = new Date();
    const lifetime = this.accessLifetime(grant);
    const expiresAt = new Date(now.getTime() + lifetime * 1000);
    const jti = timeOrderedId();
    const subject = accessTokenSubject(grant.user?.id ?? null, grant.client.clientId);
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
    return { value, jti, expiresAt, lifetime };
  }

  /**
   * Lifetimes come from the client's token profile; client credentials have their own. Jitter applies
   * only where the lifetime is the server-wide JWT_EXPIRATION (the standard profile, unless it was set
   * apart with TOKEN_PROFILE_STANDARD_ACCESS_TTL), spreading the expiries of the many tokens issued with
   * it; explicit profile lifetimes are used exactly (as AuthGate documents JWT_EXPIRATION_JITTER).
   */
  private accessLifetime(grant: Grant): number {
    if (grant.grantType === 'client_credentials') return this.config.clientCredentialsExpiration;
    return accessLifetimeFor(this.config, grant.client.tokenProfile);
  }

  private async response(grant: Grant, access: { value: string; lifetime: number }, refreshValue?: string): Promise<TokenSet> {
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
      accessToken: access.value,
      expiresIn: access.lifetime,
      ...(refreshValue ? { refreshToken: refreshValue } : {}),
      ...(idToken ? { idToken } : {}),
      scope: formatScope(grant.scopes),
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

/** The claims of a compact JWS this server signed (see checkAccessToken: only for a value already verified). */
function payloadOf(value: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(value.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

// A cache hit returns the same frozen row object each time (ops/cache.ts' local layer), and a row
// belongs to one token value (its tokenHash): the value's claims are decoded once per cached row.
const decodedClaims = new WeakMap<Token, Readonly<Record<string, unknown>>>();
function claimsOf(token: Token, value: string): Readonly<Record<string, unknown>> {
  let claims = decodedClaims.get(token);
  if (!claims) decodedClaims.set(token, (claims = Object.freeze(payloadOf(value))));
  return claims;
}

// On a cache hit the token, user and client rows are the caches' frozen objects, the same from one
// check to the next: the token joined with them is built once per such triple (it was a copy of some
// twenty fields on every introspection), and frozen like them.
const joined = new WeakMap<Token, ActiveAccessToken['token']>();
function withOwners(token: Token, user: User | null, client: OAuthClient): ActiveAccessToken['token'] {
  if (!Object.isFrozen(token)) return { ...token, user, client };
  const known = joined.get(token);
  if (known && known.user === user && known.client === client) return known;
  const made = Object.freeze({ ...token, user, client });
  joined.set(token, made);
  return made;
}

/** Stores a token by the hash of its value, never the value. */
function tokenRow(
  value: string,
  category: 'access' | 'refresh',
  grant: Grant,
  lineage: { id: string; jti: string; familyId: string; parentId: string | null; expiresAt: Date },
): Prisma.TokenCreateManyInput {
  return {
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
  };
}

/** Seconds in [0, max): AuthGate's lifetime with jitter is [JWT_EXPIRATION, JWT_EXPIRATION + jitter). */
function jitterSeconds(max: number, random = Math.random): number {
  return max > 0 ? Math.floor(random() * max) : 0;
}

/** A user grant's access-token lifetime for a client's token profile (exported for tests). */
export function accessLifetimeFor(
  config: Pick<Config, 'jwt' | 'tokenProfiles'>,
  profile: keyof Config['tokenProfiles'],
  random: () => number = Math.random,
): number {
  const base = config.tokenProfiles[profile].access;
  return profile === 'standard' && base === config.jwt.expiration ? base + jitterSeconds(config.jwt.expirationJitter, random) : base;
}
