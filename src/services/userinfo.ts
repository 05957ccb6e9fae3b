// OIDC Core §5.3: which claims an access token releases at the UserInfo endpoint. The rule (a user's
// token that was granted `openid`) lives here so every face that answers "who is this token for"
// applies it the same way.
import { InsufficientScope } from '../domain/errors.js';
import { parseScope } from '../domain/scopes.js';
import { userClaims } from './id-tokens.js';
import type { TokenService } from './tokens.js';

export class UserInfoService {
  constructor(private readonly tokens: TokenService) {}

  /** The claims for an access token value; InvalidToken or InsufficientScope otherwise. */
  async claims(accessToken: string): Promise<Record<string, unknown>> {
    const { token } = await this.tokens.validateAccessToken(accessToken);
    const scopes = parseScope(token.scopes);
    if (!token.user || !scopes.includes('openid')) throw new InsufficientScope('openid', 'the access token was not granted the openid scope');
    return userClaims(token.user, scopes);
  }
}
