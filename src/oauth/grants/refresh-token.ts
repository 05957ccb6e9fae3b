// RFC 6749 §6: a refresh token buys a new access token (and, in rotation mode, a new refresh token).
import { InvalidRequest } from '../../domain/errors.js';
import { readResources } from '../resources.js';
import type { GrantHandler } from './grant.js';

export const refreshTokenGrant: GrantHandler = {
  grantType: 'refresh_token',
  parameters: ['refresh_token', 'scope', 'resource'],
  async handle({ client, params, services, req }) {
    const refreshToken = params.optional('refresh_token');
    if (!refreshToken) throw new InvalidRequest('refresh_token is required');
    return services.tokens.refresh(refreshToken, client, { scope: params.optional('scope'), resources: readResources(params) }, req);
  },
};
