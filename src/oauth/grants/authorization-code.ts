// RFC 6749 §4.1.3: the client trades its code (and PKCE verifier) for tokens.
import { InvalidRequest } from '../../domain/errors.js';
import { readResources } from '../resources.js';
import type { GrantHandler } from './grant.js';

export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  parameters: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  async handle({ client, params, services, req }) {
    const code = params.optional('code');
    if (!code) throw new InvalidRequest('code is required');
    return services.authorizationCodes.exchange(
      { code, redirectUri: params.optional('redirect_uri'), codeVerifier: params.optional('code_verifier'), resources: readResources(params) },
      client,
      req,
    );
  },
};
