// RFC 6749 §5.1 (and OIDC Core §3.1.3.3 for id_token): how the token endpoint writes a TokenSet.
import type { TokenSet } from '../services/tokens.js';

export function tokenResponse(set: TokenSet): Record<string, unknown> {
  return {
    access_token: set.accessToken,
    token_type: 'Bearer',
    expires_in: set.expiresIn,
    ...(set.refreshToken ? { refresh_token: set.refreshToken } : {}),
    ...(set.idToken ? { id_token: set.idToken } : {}),
    scope: set.scope,
  };
}
