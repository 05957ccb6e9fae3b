// RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0. Both list only what
// this server implements, built from the registered grants so the documents cannot drift from the code.
import type { Context } from 'koa';
import type { Config } from '../../config/env.js';
import type { GrantHandler } from '../grants/index.js';

export function serverMetadata(config: Pick<Config, 'baseUrl' | 'jwt' | 'dynamicRegistration'>, grants: readonly GrantHandler[]) {
  const issuer = config.baseUrl;
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    userinfo_endpoint: `${issuer}/oauth/userinfo`,
    device_authorization_endpoint: `${issuer}/oauth/device/code`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    grant_types_supported: grants.map((g) => g.grantType),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: authorization responses carry `iss`.
    authorization_response_iss_parameter_supported: true,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint: `${issuer}/oauth/revoke`,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint: `${issuer}/oauth/introspect`,
    // No `none`: public clients are refused at introspection (RFC 7662 §4).
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // RFC 8414 §2: advertised only when the endpoint is mounted.
    ...(config.dynamicRegistration.enabled ? { registration_endpoint: `${issuer}/oauth/register` } : {}),
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.jwt.alg],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'at_hash', 'azp', 'name', 'preferred_username', 'updated_at', 'email', 'email_verified'],
    prompt_values_supported: ['none', 'login', 'consent'],
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
