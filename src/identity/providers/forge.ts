// Shared shape of the OAuth 2.0 "forges" (GitHub, Gitea, GitLab): an authorize URL with state and PKCE,
// a code exchange at the token endpoint, and the person read from the provider's REST API.
import { createHash } from 'node:crypto';
import type { ProviderConfig } from './config.js';
import { exchangeCode, type HttpOptions, providerJson, ProviderError } from './http.js';
import type { AuthorizationRequest, ExternalProfile, IdentityProvider } from './types.js';

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export abstract class ForgeProvider implements IdentityProvider {
  constructor(
    readonly config: ProviderConfig,
    protected readonly http: HttpOptions,
  ) {}

  protected abstract readonly authorizePath: string;
  protected abstract readonly tokenPath: string;
  /** Reads the person with the provider's access token. */
  protected abstract profile(accessToken: string): Promise<ExternalProfile>;

  async authorizationUrl(req: AuthorizationRequest): Promise<string> {
    const url = new URL(`${this.config.baseUrl}${this.authorizePath}`);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('redirect_uri', this.config.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.config.scopes.join(' '));
    url.searchParams.set('state', req.state);
    url.searchParams.set('code_challenge', s256(req.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.toString();
  }

  async finish(code: string, req: AuthorizationRequest): Promise<ExternalProfile> {
    const tokens = await exchangeCode(
      `${this.config.baseUrl}${this.tokenPath}`,
      { code, redirectUri: this.config.redirectUri, clientId: this.config.clientId, clientSecret: this.config.clientSecret, codeVerifier: req.codeVerifier, auth: 'post' },
      this.http,
    );
    return this.profile(tokens.access_token as string);
  }

  protected async api(path: string, accessToken: string, extraHeaders: Record<string, string> = {}): Promise<Record<string, unknown> | unknown[]> {
    return providerJson(`${this.config.apiUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}`, ...extraHeaders } }, this.http, 'user_api');
  }

  protected async user(path: string, accessToken: string, extraHeaders: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const user = await this.api(path, accessToken, extraHeaders);
    if (Array.isArray(user) || (typeof user.id !== 'number' && typeof user.id !== 'string') || String(user.id) === '') {
      throw new ProviderError('user_api_malformed', 'The identity provider sent an answer this server could not read.');
    }
    return user;
  }
}

export const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);
