// RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0. Both list only what
// this server implements, built from the registered grants so the documents cannot drift from the code.
import type { Context } from 'koa';
import type { Config } from '../../config/env.js';
import type { GrantHandler } from '../grants/index.js';

export function serverMetadata(config: Pick<Config, 'baseUrl' | 'jwt'>, grants: readonly GrantHandler[]) {
  const issuer = config.baseUrl;
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    device_authorization_endpoint: `${issuer}/oauth/device/code`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: grants.map((g) => g.grantType),
    response_types_supported: [] as string[],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.jwt.alg],
    service_documentation: `${issuer}/`,
  };
}

export function discoveryEndpoint(metadata: Record<string, unknown>) {
  const body = JSON.stringify(metadata);
  return async function discovery(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
