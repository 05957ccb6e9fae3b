// Any OpenID Connect provider (Keycloak, Dex, Okta, Google, Entra ID, another AuthGate) from its issuer
// URL: discovery (OpenID Connect Discovery 1.0), authorization code flow with PKCE (S256), `state` and
// `nonce`, and the ID token verified against the provider's JWKS (signature, iss, aud, azp, exp, nonce).
// The e-mail address counts as verified only with `email_verified: true` from the provider.
import { createLocalJWKSet, decodeJwt, errors as joseErrors, type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose';
import { constantTimeEqual } from '../../domain/crypto.js';
import { ConfigError } from '../../domain/errors.js';
import { checkScheme, type ProviderConfig } from './config.js';
import { s256 } from './forge.js';
import { exchangeCode, type HttpOptions, isObject, providerJson, ProviderError } from './http.js';
import type { AuthorizationRequest, ExternalProfile, IdentityProvider } from './types.js';

interface Metadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
}

const METADATA_TTL_MS = 60 * 60_000;
const JWKS_REFRESH_MIN_MS = 30_000;
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

export class OidcProvider implements IdentityProvider {
  private metadata?: { value: Metadata; at: number };
  private jwks?: { keys: ReturnType<typeof createLocalJWKSet>; at: number };

  constructor(
    readonly config: ProviderConfig,
    private readonly http: HttpOptions & { production: boolean },
  ) {}

  async authorizationUrl(req: AuthorizationRequest): Promise<string> {
    const meta = await this.discover();
    const url = new URL(meta.authorization_endpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.config.scopes.join(' '));
    url.searchParams.set('state', req.state);
    url.searchParams.set('nonce', req.nonce);
    url.searchParams.set('code_challenge', s256(req.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  async finish(code: string, req: AuthorizationRequest): Promise<ExternalProfile> {
    const meta = await this.discover();
    const methods = meta.token_endpoint_auth_methods_supported;
    const auth = !methods || methods.includes('client_secret_basic') ? 'basic' : 'post';
    const tokens = await exchangeCode(
      meta.token_endpoint,
      { code, redirectUri: this.config.redirectUri, clientId: this.config.clientId, clientSecret: this.config.clientSecret, codeVerifier: req.codeVerifier, auth },
      this.http,
    );
    if (typeof tokens.id_token !== 'string') throw new ProviderError('id_token_missing', 'The identity provider did not say who you are (no ID token).');
    const claims = await this.verifyIdToken(tokens.id_token, meta, req.nonce);
    let email = typeof claims.email === 'string' ? claims.email : undefined;
    let emailVerified = email !== undefined && (claims.email_verified === true || (this.config.name === 'microsoft' && claims.xms_edov === true));
    let name = typeof claims.name === 'string' ? claims.name : undefined;
    let username = typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined;
    // Many providers put profile claims only in the UserInfo answer (OIDC Core §5.4).
    if ((email === undefined || name === undefined) && meta.userinfo_endpoint) {
      const info = await providerJson(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token as string}` } }, this.http, 'userinfo');
      // OIDC Core §5.3.2: the UserInfo sub must be the ID token's, or the answer is not about this person.
      if (!isObject(info) || info.sub !== claims.sub) throw new ProviderError('userinfo_sub_mismatch', 'The identity provider sent an answer about someone else.');
      if (email === undefined && typeof info.email === 'string') {
        email = info.email;
        emailVerified = info.email_verified === true;
      }
      name ??= typeof info.name === 'string' ? info.name : undefined;
      username ??= typeof info.preferred_username === 'string' ? info.preferred_username : undefined;
    }
    return { providerUserId: claims.sub!, username, displayName: name, email: email?.trim() || undefined, emailVerified: emailVerified && Boolean(email?.trim()) };
  }

  private async verifyIdToken(idToken: string, meta: Metadata, nonce: string): Promise<JWTPayload> {
    let issuer = meta.issuer;
    if (this.config.multiTenant && issuer.includes('{tenantid}')) {
      // Entra ID's common/organizations/consumers: the issuer names the person's own tenant (tid).
      let tid: unknown;
      try {
        tid = decodeJwt(idToken).tid;
      } catch {
        throw new ProviderError('id_token_malformed', 'The identity provider sent an ID token this server could not read.');
      }
      if (typeof tid !== 'string' || !/^[0-9a-f-]{36}$/i.test(tid)) throw new ProviderError('id_token_bad_issuer', 'The identity provider sent an ID token from an unexpected issuer.');
      issuer = issuer.replace('{tenantid}', tid);
    }
    const algorithms = (meta.id_token_signing_alg_values_supported ?? ['RS256']).filter((alg) => ASYMMETRIC.includes(alg));
    const verify = async () =>
      jwtVerify(idToken, (await this.keys(meta)).keys, { issuer, audience: this.config.clientId, algorithms: algorithms.length ? algorithms : ['RS256'], clockTolerance: 30, requiredClaims: ['sub', 'exp', 'iat'] });
    let payload: JWTPayload;
    try {
      payload = (await verify()).payload;
    } catch (err) {
      if (err instanceof joseErrors.JWKSNoMatchingKey && this.jwks && Date.now() - this.jwks.at > JWKS_REFRESH_MIN_MS) {
        // The provider rotated its keys: read them once more.
        this.jwks = undefined;
        try {
          payload = (await verify()).payload;
        } catch (again) {
          throw idTokenError(again);
        }
      } else {
        throw idTokenError(err);
      }
    }
    const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    if (aud.length > 1 && payload.azp !== this.config.clientId) throw new ProviderError('id_token_bad_azp', 'The ID token was not issued to this server.');
    if (typeof payload.nonce !== 'string' || !constantTimeEqual(payload.nonce, nonce)) throw new ProviderError('id_token_bad_nonce', 'The ID token does not belong to this sign-in attempt.');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new ProviderError('id_token_malformed', 'The ID token names nobody.');
    return payload;
  }

  private async keys(meta: Metadata): Promise<{ keys: ReturnType<typeof createLocalJWKSet> }> {
    if (this.jwks) return this.jwks;
    const set = await providerJson(meta.jwks_uri, {}, this.http, 'jwks');
    if (!isObject(set) || !Array.isArray(set.keys)) throw new ProviderError('jwks_malformed', 'The identity provider published keys this server could not read.');
    try {
      this.jwks = { keys: createLocalJWKSet(set as unknown as JSONWebKeySet), at: Date.now() };
    } catch {
      throw new ProviderError('jwks_malformed', 'The identity provider published keys this server could not read.');
    }
    return this.jwks;
  }

  private async discover(): Promise<Metadata> {
    if (this.metadata && Date.now() - this.metadata.at < METADATA_TTL_MS) return this.metadata.value;
    const url = `${this.config.baseUrl}/.well-known/openid-configuration`;
    const doc = await providerJson(url, {}, this.http, 'discovery');
    if (!isObject(doc)) throw new ProviderError('discovery_malformed', 'The identity provider published a configuration this server could not read.');
    const meta = doc as unknown as Metadata;
    // OIDC Discovery §4.3: the issuer in the document must be the one configured.
    const expected = this.config.multiTenant ? this.config.baseUrl.replace(/\/[^/]+\/v2\.0$/, '/{tenantid}/v2.0') : this.config.baseUrl;
    if (typeof meta.issuer !== 'string' || meta.issuer.replace(/\/+$/, '') !== expected.replace(/\/+$/, '')) {
      throw new ProviderError('discovery_issuer_mismatch', 'The identity provider published a configuration for another issuer.');
    }
    for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint'] as const) {
      const value = meta[key];
      if (value === undefined && key === 'userinfo_endpoint') continue;
      try {
        if (typeof value !== 'string') throw new ConfigError('missing');
        checkScheme(new URL(value), this.http.production, key);
      } catch {
        throw new ProviderError('discovery_bad_endpoint', 'The identity provider published a configuration this server cannot use.');
      }
    }
    this.metadata = { value: meta, at: Date.now() };
    return meta;
  }
}

function idTokenError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = err.claim === 'iss' ? 'issuer' : err.claim === 'aud' ? 'audience' : err.claim;
    return new ProviderError(`id_token_bad_${err.claim}`, `The ID token was refused (wrong ${claim}).`);
  }
  if (err instanceof joseErrors.JWTExpired) return new ProviderError('id_token_expired', 'The ID token has expired.');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new ProviderError('id_token_bad_signature', 'The ID token signature is not valid.');
  if (err instanceof joseErrors.JWKSNoMatchingKey) return new ProviderError('id_token_unknown_key', 'The ID token was signed with a key the provider does not publish.');
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new ProviderError('id_token_bad_alg', 'The ID token uses a signature algorithm that is not accepted.');
  return new ProviderError('id_token_invalid', 'The ID token could not be verified.');
}
