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
    if (!token.user) {
      // A machine token (client_credentials, sub `client:<client_id>`) has no user to describe. Still
      // RFC 6750's insufficient_scope (403): only a user's token granted `openid` is enough here, and
      // unlike invalid_token it does not invite the client to fetch another token of the same kind.
      throw new InsufficientScope('openid', 'this is a client_credentials token issued to the client itself; UserInfo needs a user\'s access token granted the openid scope');
    }
    if (!scopes.includes('openid')) throw new InsufficientScope('openid', 'the access token was not granted the openid scope');
    return userClaims(token.user, scopes);
  }
}
