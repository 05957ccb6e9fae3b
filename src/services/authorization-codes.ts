// The Authorization Code grant with PKCE (RFC 6749 §4.1, RFC 7636, OAuth 2.1 rules).
// Validation happens in two stages (RFC 6749 §4.1.2.1): until the client and redirect_uri are known
// to be good, errors are shown to the user and never redirected; after that, errors go back to the
// client's redirect_uri.
import type { Config } from '../config/env.js';
import { writeTransaction, type Tx } from '../db/transactions.js';
import type { Db, OAuthClient, User } from '../db/client.js';
import { randomToken, sha256Hex } from '../domain/crypto.js';
import { InvalidGrant, InvalidRequest, InvalidScope, OAuthError, UnauthorizedClient } from '../domain/errors.js';
import { validateChallenge, verifyCodeVerifier } from '../domain/pkce.js';
import { selectResources } from '../domain/resources.js';
import { formatScope, parseScope, requireScopesWithin } from '../domain/scopes.js';
import type { Metrics } from '../ops/metrics.js';
import type { Caches } from '../ops/cache.js';
import type { AuditLog } from './audit.js';
import type { ClientService } from './clients.js';
import { parseRedirectUris } from './clients.js';
import type { RequestInfo } from './request-context.js';
import { revokeGrantTokens } from './grant-withdrawal.js';
import type { TokenSet, Outcome, TokenService, TokenSource } from './tokens.js';

/** Stage one failed: the client or redirect_uri cannot be trusted, so the user sees an error page. */
export class UntrustedAuthorizationRequest extends Error {
  override name = 'UntrustedAuthorizationRequest';
}

export interface AuthorizationRequestInput {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  scope?: string;
  state?: string;
  code_challenge?: string;
  code_challenge_method?: string;
  nonce?: string;
  prompt?: string;
  resource: string[];
}

export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  scopes: string[];
  state?: string;
  nonce?: string;
  prompt?: string;
  resources: string[];
  codeChallenge?: string;
  codeChallengeMethod?: 'S256';
}

export class AuthorizationCodeService {
  constructor(
    private readonly db: Db,
    private readonly clients: ClientService,
    private readonly tokens: TokenService,
    private readonly audit: AuditLog,
    private readonly config: Pick<Config, 'authorizationCode' | 'database'>,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
  ) {}

  /** Stage one: a known, active, approved client and an exactly registered redirect_uri. */
  async resolveClientAndRedirect(input: Pick<AuthorizationRequestInput, 'client_id' | 'redirect_uri'>): Promise<{ client: OAuthClient; redirectUri: string }> {
    if (!input.client_id) throw new UntrustedAuthorizationRequest('The request has no client_id.');
    const client = await this.clients.findByClientId(input.client_id);
    if (!client || !client.active || client.approvalStatus !== 'approved') {
      throw new UntrustedAuthorizationRequest('The application that sent you here is not known to this server.');
    }
    const registered = parseRedirectUris(client);
    // RFC 6749 §3.1.2.3: exact string comparison; omission is allowed only with a single registered URI.
    const redirectUri = input.redirect_uri ?? (registered.length === 1 ? registered[0] : undefined);
    if (!redirectUri || !registered.includes(redirectUri)) {
      throw new UntrustedAuthorizationRequest('The redirect address in the request is not registered for this application.');
    }
    return { client, redirectUri };
  }

  /** Stage two: everything else; errors here are OAuthErrors that the caller redirects back. */
  validate(base: { client: OAuthClient; redirectUri: string }, input: AuthorizationRequestInput, resources: string[]): AuthorizationRequest {
    const { client } = base;
    if (input.response_type !== 'code') {
      throw new OAuthError('unsupported_response_type', 'only response_type=code is supported');
    }
    if (!client.enableAuthCodeFlow) throw new UnauthorizedClient('this client is not allowed to use the authorization_code flow');
    const scopes = parseScope(input.scope);
    if (scopes.length === 0) throw new InvalidScope('scope is required');
    requireScopesWithin(scopes, parseScope(client.allowedScopes), 'scope not allowed for this client');
    const pkce = validateChallenge(input.code_challenge, input.code_challenge_method);
    if (!pkce && (client.clientType === 'public' || this.config.authorizationCode.pkceRequired)) {
      throw new InvalidRequest('PKCE is required: send code_challenge with code_challenge_method=S256');
    }
    return {
      client,
      redirectUri: base.redirectUri,
      scopes,
      state: input.state,
      nonce: input.nonce,
      prompt: input.prompt,
      resources,
      codeChallenge: pkce?.challenge,
      codeChallengeMethod: pkce?.method,
    };
  }

  /** Issues a single-use code bound to the client, redirect_uri, PKCE challenge, scopes and resources. */
  async issueCode(request: AuthorizationRequest, user: User, authTime: Date, req: RequestInfo): Promise<string> {
    const code = randomToken(32);
    const row = await this.db.authorizationCode.create({
      data: {
        codeHash: sha256Hex(code),
        clientId: request.client.id,
        userId: user.id,
        redirectUri: request.redirectUri,
        scopes: formatScope(request.scopes),
        resource: formatScope(request.resources),
        codeChallenge: request.codeChallenge ?? null,
        codeChallengeMethod: request.codeChallengeMethod ?? null,
        nonce: request.nonce ?? null,
        authTime,
        expiresAt: new Date(Date.now() + this.config.authorizationCode.expiration * 1000),
      },
    });
    this.audit.record({
      eventType: 'AUTHORIZATION_CODE_ISSUED',
      actor: { userId: user.id, username: user.username },
      subject: { type: 'authorization_code', id: row.id },
      clientId: request.client.clientId,
      request: req,
      details: { scope: row.scopes },
    });
    return code;
  }

  /** RFC 6749 §4.1.3 + RFC 7636 §4.6. A replayed code revokes what the first exchange produced (§4.1.2). */
  async exchange(
    input: { code: string; redirectUri?: string; codeVerifier?: string; resources: string[] },
    client: OAuthClient,
    req: RequestInfo,
  ): Promise<TokenSet> {
    this.clients.requireFlow(client, 'authorization_code');
    const row = await this.db.authorizationCode.findUnique({ where: { codeHash: sha256Hex(input.code) }, include: { user: true } });
    if (!row || row.clientId !== client.id) throw new InvalidGrant('authorization code is invalid');
    if (row.usedAt) return this.settleReplay(row.id, client, req);
    if (row.revokedAt) throw new InvalidGrant('authorization code has been revoked');
    if (row.expiresAt <= new Date()) throw new InvalidGrant('authorization code has expired');
    if (input.redirectUri !== row.redirectUri) throw new InvalidGrant('redirect_uri does not match the authorization request');
    if (row.codeChallenge) verifyCodeVerifier(input.codeVerifier, row.codeChallenge);
    else if (input.codeVerifier !== undefined) throw new InvalidGrant('code_verifier sent but no code_challenge was in the authorization request');
    const granted = parseScope(row.resource);
    const resources = selectResources(input.resources, granted);
    if (!row.user.active) throw new InvalidGrant('the user is disabled');

    const source: TokenSource = {
      // Conditional update inside the issuing transaction: of concurrent exchanges of one code exactly one
      // wins, and it commits the claim and its tokens together, so a loser always finds those tokens.
      claim: async (tx) =>
        (await tx.authorizationCode.updateMany({ where: { id: row.id, usedAt: null, revokedAt: null }, data: { usedAt: new Date() } })).count === 1,
      lost: async (tx) => {
        const current = await tx.authorizationCode.findUnique({ where: { id: row.id } });
        if (current?.usedAt) return this.revokeReplayed(tx, row.id, client, req);
        return { error: new InvalidGrant('authorization code has been revoked') };
      },
    };
    return this.tokens.issue(
      {
        client,
        user: row.user,
        scopes: parseScope(row.scopes),
        resources,
        grantedResources: granted,
        grantType: 'authorization_code',
        authTime: row.authTime,
        sourceCode: row.id,
        nonce: row.nonce ?? undefined,
      },
      { withRefresh: true, source },
      req,
    );
  }

  /** A code presented after it was used: revoke what it issued, in a transaction of its own. */
  private async settleReplay(codeId: string, client: OAuthClient, req: RequestInfo): Promise<never> {
    const outcome = await writeTransaction(this.db, this.config.database.dialect, (tx) => this.revokeReplayed(tx, codeId, client, req));
    this.metrics.tokensRevokedFor('security', Number(outcome.audit!.details?.tokens_revoked) || 0);
    await this.caches.tokensChanged();
    await this.audit.recordNow(outcome.audit!);
    throw outcome.error;
  }

  /** Every family that started from the code, refreshed descendants included. */
  private async revokeReplayed(tx: Tx, codeId: string, client: OAuthClient, req: RequestInfo): Promise<Outcome & { error: OAuthError }> {
    const families = await tx.token.findMany({ where: { sourceCode: codeId }, select: { familyId: true }, distinct: ['familyId'] });
    let revoked = 0;
    for (const { familyId } of families) revoked += await revokeGrantTokens(tx, { familyId });
    return {
      error: new InvalidGrant('authorization code has already been used'),
      audit: {
        eventType: 'AUTHORIZATION_CODE_REUSE',
        severity: 'WARNING',
        success: false,
        subject: { type: 'authorization_code', id: codeId },
        clientId: client.clientId,
        request: req,
        details: { tokens_revoked: revoked },
      },
    };
  }
}
