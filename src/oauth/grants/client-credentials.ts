// RFC 6749 §4.4.2: a confidential client asks for a token for itself.
import { readResources } from '../resources.js';
import type { GrantHandler } from './grant.js';

export const clientCredentialsGrant: GrantHandler = {
  grantType: 'client_credentials',
  parameters: ['scope', 'resource'],
  async handle({ client, params, services, req }) {
    return services.clientCredentials.issue(client, params.optional('scope'), readResources(params), req);
  },
};
