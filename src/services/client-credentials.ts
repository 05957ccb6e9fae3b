// The Client Credentials grant (RFC 6749 §4.4): a confidential client acting on its own behalf.
import type { OAuthClient } from '../db/client.js';
import { InvalidScope, UnauthorizedClient } from '../domain/errors.js';
import { parseScope, requireScopesWithin } from '../domain/scopes.js';
import type { ClientService } from './clients.js';
import type { RequestInfo } from './request-context.js';
import type { TokenSet, TokenService } from './tokens.js';

// No user is involved: identity (openid) and offline access (refresh tokens) make no sense here.
const USER_ONLY_SCOPES = ['openid', 'offline_access'];

export class ClientCredentialsService {
  constructor(
    private readonly clients: ClientService,
    private readonly tokens: TokenService,
  ) {}

  async issue(client: OAuthClient, scope: string | undefined, resources: string[], req: RequestInfo): Promise<TokenSet> {
    if (client.clientType !== 'confidential') throw new UnauthorizedClient('the client_credentials grant is for confidential clients only');
    this.clients.requireFlow(client, 'client_credentials');
    const allowed = parseScope(client.allowedScopes).filter((s) => !USER_ONLY_SCOPES.includes(s));
    let scopes = parseScope(scope);
    const userOnly = scopes.filter((s) => USER_ONLY_SCOPES.includes(s));
    if (userOnly.length > 0) throw new InvalidScope(`not available to the client_credentials grant: ${userOnly.join(' ')}`);
    // RFC 6749 §3.3: with no scope requested, the pre-defined default is everything the client may have.
    if (scopes.length === 0) scopes = allowed;
    requireScopesWithin(scopes, allowed, 'scope not allowed for this client');
    return this.tokens.issue({ client, user: null, scopes, resources, grantType: 'client_credentials' }, { withRefresh: false }, req);
  }
}
