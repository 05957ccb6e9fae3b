// Token introspection (RFC 7662): tells an authenticated client whether a token is active and what it
// carries. Any confidential client may introspect any token: resource servers are registered as
// clients and must be able to check tokens issued to the applications that call them (§2.1 leaves
// the authorization policy to the server; §4 asks that callers be authenticated, which is why public
// clients are refused).
import type { Config } from '../config/env.js';
import type { Db, OAuthClient } from '../db/client.js';
import { sha256Hex } from '../domain/crypto.js';
import { InvalidClient, InvalidToken } from '../domain/errors.js';
import { parseScope } from '../domain/scopes.js';
import { secondsSince, type Metrics, type TokenValidation } from '../ops/metrics.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';
import type { TokenTypeHint } from './revocation.js';
import { accessTokenSubject, subjectType, type SubjectType, type TokenService } from './tokens.js';

export interface ActiveIntrospection {
  active: true;
  scope: string;
  client_id: string;
  username?: string;
  sub: string;
  /** AuthGate's extension, read by its SDKs: the user's id, or `client:<client_id>` for a machine token. */
  user_id: string;
  subject_type: SubjectType;
  aud: string | string[];
  iss: string;
  exp: number;
  iat: number;
  token_type: 'Bearer' | 'refresh_token';
  jti: string;
}

export type IntrospectionResult = { active: false } | ActiveIntrospection;

// §2.2: an inactive token gets nothing but this, so the answer never says *why* (unknown, revoked,
// expired, disabled owner all look the same).
const INACTIVE: IntrospectionResult = Object.freeze({ active: false as const });

const seconds = (d: Date) => Math.floor(d.getTime() / 1000);
// Access tokens are compact JWS (three base64url parts); refresh tokens are one base64url string.
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export class IntrospectionService {
  constructor(
    private readonly db: Db,
    private readonly tokens: TokenService,
    private readonly config: Pick<Config, 'baseUrl'>,
    private readonly audit: AuditLog,
    private readonly metrics: Metrics,
  ) {}

  /**
   * `caller` must already be authenticated (ClientService.authenticate). The hint is accepted but not
   * needed: the token's own shape says which kind it is.
   */
  async introspect(value: string, caller: OAuthClient, _hint: TokenTypeHint | undefined, req: RequestInfo): Promise<IntrospectionResult> {
    if (caller.clientType !== 'confidential') {
      // A public client proves nothing by sending its client_id, so it could be anyone; letting it
      // introspect would turn this endpoint into a token-scanning oracle (RFC 7662 §4).
      this.audit.record({
        eventType: 'CLIENT_AUTHENTICATION_FAILURE',
        severity: 'WARNING',
        success: false,
        clientId: caller.clientId,
        request: req,
        details: { reason: 'public_client_at_introspection' },
      });
      throw new InvalidClient('introspection requires a confidential client');
    }
    if (JWT_SHAPE.test(value)) {
      // An access token. The full check (signature, typ, issuer, expiry, stored status, active user and
      // client) is the one tokeninfo uses; reusing it keeps the two from ever disagreeing, and it finds
      // the stored row itself, so there is no second lookup.
      try {
        const { token, claims } = await this.tokens.validateAccessToken(value);
        return {
          active: true,
          scope: token.scopes,
          client_id: token.client.clientId,
          ...(token.user ? { username: token.user.username } : {}),
          sub: String(claims.sub),
          user_id: accessTokenSubject(token.userId, token.client.clientId),
          subject_type: subjectType(token.userId),
          aud: claims.aud as string | string[],
          iss: this.config.baseUrl,
          exp: typeof claims.exp === 'number' ? claims.exp : seconds(token.expiresAt),
          iat: typeof claims.iat === 'number' ? claims.iat : seconds(token.createdAt),
          token_type: 'Bearer',
          jti: token.jti,
        };
      } catch (err) {
        if (err instanceof InvalidToken) return INACTIVE;
        throw err;
      }
    }

    // Otherwise it can only be one of our opaque refresh tokens, found by the hash of its value.
    const started = process.hrtime.bigint();
    const row = await this.db.token.findUnique({ where: { tokenHash: sha256Hex(value) }, include: { user: true, client: true } });
    const result: TokenValidation =
      !row || row.category !== 'refresh' || row.status !== 'active' || (row.user && !row.user.active) || !row.client.active
        ? 'invalid'
        : row.expiresAt <= new Date()
          ? 'expired'
          : 'valid';
    this.metrics.tokenValidation.count(result);
    this.metrics.tokenValidationDuration.observe({ provider: 'local' }, secondsSince(started));
    if (!row || result !== 'valid') return INACTIVE;
    // The refresh token's audience is what its access tokens will be issued for: the granted
    // resources (RFC 8707), or this server when none were requested — the same rule as the JWT's aud.
    const resources = parseScope(row.audience);
    return {
      active: true,
      scope: row.scopes,
      client_id: row.client.clientId,
      ...(row.user ? { username: row.user.username } : {}),
      sub: accessTokenSubject(row.userId, row.client.clientId),
      user_id: accessTokenSubject(row.userId, row.client.clientId),
      subject_type: subjectType(row.userId),
      aud: resources.length === 0 ? this.config.baseUrl : resources.length === 1 ? resources[0]! : resources,
      iss: this.config.baseUrl,
      exp: seconds(row.expiresAt),
      iat: seconds(row.createdAt),
      token_type: 'refresh_token',
      jti: row.jti,
    };
  }
}
