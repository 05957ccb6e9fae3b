// What every identity provider offers the sign-in service: where to send the person, and, given the
// code they come back with, who they are.
import type { ProviderConfig } from './config.js';

export interface ExternalProfile {
  /** Stable id at the provider (GitHub's numeric id, OIDC `sub`). */
  providerUserId: string;
  /** A username suggestion for an account created on first sign-in. */
  username?: string;
  displayName?: string;
  email?: string;
  /** Only true when the provider says so for this address (never assumed). */
  emailVerified: boolean;
}

export interface AuthorizationRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface IdentityProvider {
  readonly config: ProviderConfig;
  /** The provider's authorization URL for this attempt. */
  authorizationUrl(req: AuthorizationRequest): Promise<string>;
  /** Exchanges the code and reads the person's identity; throws ProviderError on anything wrong. */
  finish(code: string, req: AuthorizationRequest): Promise<ExternalProfile>;
}
