// The OpenAPI 3.1 description of the protocol face (every route of oauthRouter, plus /health), served
// at GET /api/openapi.json and browsable at /api/swagger/ (as AuthGate serves its Swagger docs).
// Written by hand, in one place; a test checks it against the router's routes in both directions and
// validates it against the OpenAPI 3.1 schema, so it cannot silently drift from what is served.
import type { Config } from '../config/env.js';

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const jsonContent = (schema: Json) => ({ 'application/json': { schema } });

/** Protocol POST bodies are accepted as a form (RFC 6749) or, with the same fields, as JSON. */
function formOrJson(schema: Json, description: string): Json {
  return {
    required: true,
    description: `${description} Sent as \`application/x-www-form-urlencoded\` (the RFC form) or as a JSON object with the same fields. A repeated parameter is an error.`,
    content: { 'application/x-www-form-urlencoded': { schema }, 'application/json': { schema } },
  };
}

const clientAuthFields: Json = {
  client_id: { type: 'string', description: 'client_secret_post, or a public client identifying itself (`none`). Omit when using HTTP Basic.' },
  client_secret: { type: 'string', description: 'client_secret_post only.' },
};

const tokenTypeHint = { type: 'string', enum: ['access_token', 'refresh_token'], description: 'Optional; a wrong hint does not matter (the token is found either way).' };

const scopeField = { type: 'string', description: 'Space-delimited scopes (RFC 6749 §3.3).', examples: ['openid profile email offline_access'] };

const bearerParam = {
  name: 'access_token',
  in: 'query',
  required: false,
  description: 'The access token, when it is not sent as `Authorization: Bearer` (one place only).',
  schema: { type: 'string' },
};

// The public client (client_id alone) is a request body field, so every operation that takes client
// authentication also allows no security scheme.
const clientSecurity = [{ clientBasic: [] }, {}];
const bearerSecurity = [{ bearerAccessToken: [] }, {}];

export function openApiDocument(config: Pick<Config, 'baseUrl' | 'dynamicRegistration'>): Json {
  const paths: Json = {
    '/.well-known/openid-configuration': {
      get: {
        tags: ['Discovery'],
        operationId: 'openidConfiguration',
        summary: 'OpenID Connect Discovery 1.0 metadata',
        responses: { '200': { description: 'The server metadata (cacheable for an hour).', content: jsonContent(ref('ServerMetadata')) } },
      },
    },
    '/.well-known/oauth-authorization-server': {
      get: {
        tags: ['Discovery'],
        operationId: 'oauthAuthorizationServerMetadata',
        summary: 'OAuth 2.0 authorization server metadata (RFC 8414); the same document',
        responses: { '200': { description: 'The server metadata (cacheable for an hour).', content: jsonContent(ref('ServerMetadata')) } },
      },
    },
    '/.well-known/jwks.json': {
      get: {
        tags: ['Discovery'],
        operationId: 'jwks',
        summary: 'The public keys that verify access and ID tokens (empty with HS256)',
        responses: { '200': { description: 'A JSON Web Key Set (RFC 7517).', content: jsonContent(ref('Jwks')) } },
      },
    },
    '/oauth/device/code': {
      post: {
        tags: ['Device flow'],
        operationId: 'deviceAuthorization',
        summary: 'Device authorization request (RFC 8628 §3.1)',
        description:
          'Without `scope`, the client gets DEVICE_CODE_DEFAULT_SCOPE (AuthGate\'s `email profile`) narrowed to the scopes it is allowed, or all its allowed scopes when none of the default is allowed. Rate limited per address.',
        security: clientSecurity,
        requestBody: formOrJson(
          {
            type: 'object',
            properties: {
              ...clientAuthFields,
              scope: scopeField,
              resource: { type: 'string', format: 'uri', description: 'RFC 8707 resource indicator; may be repeated.' },
            },
          },
          'Client identification and the scopes asked for.',
        ),
        responses: {
          '200': { description: 'The codes the device shows and polls with.', content: jsonContent(ref('DeviceAuthorizationResponse')) },
          '400': response('OAuthError'),
          '401': response('InvalidClient'),
          '413': response('OAuthError'),
          '415': response('OAuthError'),
          '429': response('RateLimited'),
        },
      },
    },
    '/oauth/token': {
      post: {
        tags: ['Tokens'],
        operationId: 'token',
        summary: 'Token endpoint (RFC 6749 §3.2): authorization_code, refresh_token, client_credentials, device_code',
        description:
          'Device-flow polling answers `authorization_pending` until the user decides, and `slow_down` (with the new `interval` and `Retry-After`) when polls come faster than the interval, less DEVICE_CODE_POLLING_TOLERANCE (default 20%) for network jitter.',
        security: clientSecurity,
        requestBody: formOrJson(
          {
            type: 'object',
            required: ['grant_type'],
            properties: {
              grant_type: {
                type: 'string',
                enum: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'],
              },
              ...clientAuthFields,
              code: { type: 'string', description: 'authorization_code' },
              redirect_uri: { type: 'string', format: 'uri', description: 'authorization_code: the one used in the authorization request' },
              code_verifier: { type: 'string', description: 'authorization_code with PKCE (RFC 7636)' },
              refresh_token: { type: 'string', description: 'refresh_token' },
              device_code: { type: 'string', description: 'urn:ietf:params:oauth:grant-type:device_code' },
              scope: scopeField,
              resource: { type: 'string', format: 'uri', description: 'RFC 8707 resource indicator; may be repeated.' },
            },
          },
          'The grant and its parameters.',
        ),
        responses: {
          '200': { description: 'Tokens (RFC 6749 §5.1).', content: jsonContent(ref('TokenResponse')) },
          '400': {
            description:
              'RFC 6749 §5.2 error, or a device-flow polling answer (RFC 8628 §3.5): `authorization_pending`, `slow_down` (with `interval`), `access_denied`, `expired_token`.',
            headers: { 'Retry-After': { description: 'With slow_down: seconds to wait.', schema: { type: 'integer' } } },
            content: jsonContent(ref('OAuthError')),
          },
          '401': response('InvalidClient'),
          '413': response('OAuthError'),
          '415': response('OAuthError'),
          '429': response('RateLimited'),
          '503': response('TemporarilyUnavailable'),
        },
      },
    },
    '/oauth/tokeninfo': {
      get: tokenInfoOperation('tokenInfo', false),
      post: tokenInfoOperation('tokenInfoPost', true),
    },
    '/oauth/userinfo': {
      get: userInfoOperation('userInfo', false),
      post: userInfoOperation('userInfoPost', true),
    },
    '/oauth/revoke': {
      post: {
        tags: ['Tokens'],
        operationId: 'revoke',
        summary: 'Token revocation (RFC 7009)',
        description:
          'Client authentication is optional: a request with only `token` revokes it (possession is enough to give a token up, as AuthGate and its SDKs do). A client that does authenticate may only revoke its own tokens; another client\'s token is answered 200 and left alone. A refresh token takes its whole rotation family with it. Every revocation is audited, saying whether the caller authenticated.',
        security: clientSecurity,
        requestBody: formOrJson(
          { type: 'object', required: ['token'], properties: { token: { type: 'string' }, token_type_hint: tokenTypeHint, ...clientAuthFields } },
          'The token to revoke.',
        ),
        responses: {
          '200': { description: 'Always, whether or not anything was revoked (RFC 7009 §2.2): an empty body.' },
          '400': response('OAuthError'),
          '401': response('InvalidClient'),
          '413': response('OAuthError'),
          '415': response('OAuthError'),
        },
      },
    },
    '/oauth/introspect': {
      post: {
        tags: ['Tokens'],
        operationId: 'introspect',
        summary: 'Token introspection (RFC 7662), for confidential clients (resource servers)',
        security: [{ clientBasic: [] }, {}],
        requestBody: formOrJson(
          { type: 'object', required: ['token'], properties: { token: { type: 'string' }, token_type_hint: tokenTypeHint, ...clientAuthFields } },
          'The token to look at, and the caller\'s credentials (client_secret_basic or client_secret_post; public clients are refused).',
        ),
        responses: {
          '200': { description: 'Whether the token is active and, if so, what it carries.', content: jsonContent(ref('Introspection')) },
          '400': response('OAuthError'),
          '401': response('InvalidClient'),
          '413': response('OAuthError'),
          '415': response('OAuthError'),
          '429': response('RateLimited'),
        },
      },
    },
    '/health': {
      get: {
        tags: ['Operations'],
        operationId: 'health',
        summary: 'Health check with a database test (AuthGate\'s body)',
        responses: {
          '200': { description: 'The database answers.', content: jsonContent(ref('Health')) },
          '503': { description: 'The database does not answer.', content: jsonContent(ref('Health')) },
        },
      },
    },
  };

  if (config.dynamicRegistration.enabled) {
    paths['/oauth/register'] = {
      post: {
        tags: ['Registration'],
        operationId: 'register',
        summary: 'Dynamic client registration (RFC 7591)',
        description:
          'With DYNAMIC_CLIENT_REGISTRATION_TOKEN set, the initial access token is required as a Bearer credential and the client is approved at once; without it, registration is open (rate limited per address) and the client waits for an administrator\'s approval.',
        security: [{ registrationToken: [] }, {}],
        requestBody: { required: true, content: jsonContent(ref('ClientMetadata')) },
        responses: {
          '201': { description: 'The registered client (RFC 7591 §3.2.1).', content: jsonContent(ref('ClientInformation')) },
          '400': { description: 'RFC 7591 §3.2.2: `invalid_client_metadata`, `invalid_redirect_uri`, or `invalid_request`.', content: jsonContent(ref('OAuthError')) },
          '401': { description: 'The initial access token is missing or wrong (`invalid_token`).', content: jsonContent(ref('OAuthError')) },
          '413': response('OAuthError'),
          '415': response('OAuthError'),
          '429': response('RateLimited'),
        },
      },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'AuthGate protocol API',
      version: '1.0.0',
      description:
        'The OAuth 2.0 / OpenID Connect endpoints of this server. Answers are JSON and never cached (except discovery and JWKS); errors are RFC 6749 §5.2 objects (`error`, `error_description`). The sign-in, consent, device-verification and account pages (`/oauth/authorize`, `/login`, `/device`, `/account`, `/admin`) are HTML, and the admin API is GraphQL at `/graphql`; neither is described here.',
    },
    servers: [{ url: config.baseUrl }],
    tags: [
      { name: 'Discovery' },
      { name: 'Device flow' },
      { name: 'Tokens' },
      { name: 'User info' },
      ...(config.dynamicRegistration.enabled ? [{ name: 'Registration' }] : []),
      { name: 'Operations' },
    ],
    paths,
    components: {
      securitySchemes: {
        clientBasic: { type: 'http', scheme: 'basic', description: 'client_secret_basic: client_id and client_secret, each form-urlencoded (RFC 6749 §2.3.1).' },
        bearerAccessToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token issued by this server (RFC 6750 §2.1).' },
        registrationToken: { type: 'http', scheme: 'bearer', description: 'The initial access token (DYNAMIC_CLIENT_REGISTRATION_TOKEN).' },
      },
      responses: {
        OAuthError: { description: 'An RFC 6749 §5.2 error (also for unreadable bodies: 413, 415).', content: jsonContent(ref('OAuthError')) },
        InvalidClient: {
          description: 'Client authentication failed (`invalid_client`).',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Basic realm="authgate", charset="UTF-8"' } },
          content: jsonContent(ref('OAuthError')),
        },
        InvalidToken: {
          description: 'The access token is missing, expired, revoked or otherwise not valid (RFC 6750 §3.1 `invalid_token` / `invalid_request`).',
          headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer error="invalid_token", …' } },
          content: jsonContent(ref('OAuthError')),
        },
        RateLimited: {
          description:
            'Too many requests (`temporarily_unavailable`): per client for a client that authenticated, else per address. Limited endpoints also send X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (epoch seconds) on every answer.',
          headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
          content: jsonContent(ref('OAuthError')),
        },
        TemporarilyUnavailable: {
          description: 'A dependency is briefly unavailable (`temporarily_unavailable`).',
          headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds to wait.' } },
          content: jsonContent(ref('OAuthError')),
        },
      },
      schemas: {
        OAuthError: {
          type: 'object',
          required: ['error'],
          properties: {
            error: { type: 'string', examples: ['invalid_request', 'invalid_client', 'invalid_grant', 'invalid_scope', 'authorization_pending', 'slow_down'] },
            error_description: { type: 'string' },
            interval: { type: 'integer', description: 'With slow_down: the polling interval (seconds) from now on.' },
          },
        },
        TokenResponse: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in', 'scope'],
          properties: {
            access_token: { type: 'string', description: 'A JWT (`typ: at+jwt`). Its `sub` is the user\'s id, or `client:<client_id>` for client_credentials tokens.' },
            token_type: { type: 'string', const: 'Bearer' },
            expires_in: { type: 'integer' },
            refresh_token: { type: 'string' },
            id_token: { type: 'string', description: 'When `openid` was granted to a user.' },
            scope: { type: 'string' },
          },
        },
        DeviceAuthorizationResponse: {
          type: 'object',
          required: ['device_code', 'user_code', 'verification_uri', 'verification_uri_complete', 'expires_in', 'interval'],
          properties: {
            device_code: { type: 'string' },
            user_code: { type: 'string', examples: ['BDWP-HQPK'] },
            verification_uri: { type: 'string', format: 'uri' },
            verification_uri_complete: { type: 'string', format: 'uri' },
            expires_in: { type: 'integer' },
            interval: { type: 'integer', description: 'Seconds between polls.' },
          },
        },
        SubjectType: { type: 'string', enum: ['user', 'client'], description: '`client` for client_credentials tokens.' },
        TokenInfo: {
          type: 'object',
          required: ['active', 'user_id', 'client_id', 'scope', 'exp', 'sub', 'subject_type'],
          properties: {
            active: { type: 'boolean', const: true },
            user_id: { type: 'string', description: 'The user\'s id, or `client:<client_id>` for a machine token (as AuthGate\'s SDKs read it).' },
            username: { type: 'string' },
            client_id: { type: 'string' },
            scope: { type: 'string' },
            aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
            exp: { type: 'integer' },
            iat: { type: 'integer' },
            iss: { type: 'string' },
            sub: { type: 'string' },
            subject_type: ref('SubjectType'),
          },
        },
        Introspection: {
          oneOf: [
            { type: 'object', required: ['active'], properties: { active: { const: false } }, additionalProperties: false, description: 'Inactive: nothing else is said (RFC 7662 §2.2).' },
            {
              type: 'object',
              required: ['active', 'scope', 'client_id', 'sub', 'user_id', 'subject_type', 'aud', 'iss', 'exp', 'iat', 'token_type', 'jti'],
              properties: {
                active: { const: true },
                scope: { type: 'string' },
                client_id: { type: 'string' },
                username: { type: 'string' },
                sub: { type: 'string' },
                user_id: { type: 'string', description: 'The user\'s id, or `client:<client_id>` for a machine token.' },
                subject_type: ref('SubjectType'),
                aud: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
                iss: { type: 'string' },
                exp: { type: 'integer' },
                iat: { type: 'integer' },
                token_type: { type: 'string', enum: ['Bearer', 'refresh_token'] },
                jti: { type: 'string' },
              },
            },
          ],
        },
        UserInfo: {
          type: 'object',
          required: ['sub'],
          properties: {
            sub: { type: 'string' },
            name: { type: 'string', description: 'profile scope' },
            preferred_username: { type: 'string', description: 'profile scope' },
            updated_at: { type: 'integer', description: 'profile scope' },
            email: { type: 'string', description: 'email scope' },
            email_verified: { type: 'boolean', description: 'email scope' },
          },
        },
        ServerMetadata: {
          type: 'object',
          required: ['issuer', 'token_endpoint', 'jwks_uri', 'response_types_supported'],
          properties: {
            issuer: { type: 'string', format: 'uri' },
            authorization_endpoint: { type: 'string', format: 'uri' },
            token_endpoint: { type: 'string', format: 'uri' },
            userinfo_endpoint: { type: 'string', format: 'uri' },
            device_authorization_endpoint: { type: 'string', format: 'uri' },
            revocation_endpoint: { type: 'string', format: 'uri' },
            introspection_endpoint: { type: 'string', format: 'uri' },
            registration_endpoint: { type: 'string', format: 'uri' },
            jwks_uri: { type: 'string', format: 'uri' },
            grant_types_supported: { type: 'array', items: { type: 'string' } },
            response_types_supported: { type: 'array', items: { type: 'string' } },
            scopes_supported: { type: 'array', items: { type: 'string' } },
          },
          additionalProperties: true,
        },
        Jwks: {
          type: 'object',
          required: ['keys'],
          properties: { keys: { type: 'array', items: { type: 'object', required: ['kty'], properties: { kty: { type: 'string' }, kid: { type: 'string' }, alg: { type: 'string' }, use: { type: 'string' } } } } },
        },
        Health: {
          type: 'object',
          required: ['status', 'database', 'timestamp'],
          properties: {
            status: { type: 'string', enum: ['healthy', 'unhealthy'] },
            database: { type: 'string', enum: ['connected', 'disconnected'] },
            timestamp: { type: 'string', format: 'date-time', examples: ['2026-01-07T10:00:00Z'] },
          },
        },
        ClientMetadata: {
          type: 'object',
          required: ['client_name'],
          properties: {
            client_name: { type: 'string' },
            redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' } },
            grant_types: { type: 'array', items: { type: 'string', enum: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] } },
            response_types: { type: 'array', items: { type: 'string', enum: ['code'] } },
            token_endpoint_auth_method: { type: 'string', enum: ['client_secret_basic', 'client_secret_post', 'none'] },
            scope: { type: 'string', description: 'Within openid profile email offline_access.' },
          },
        },
        ClientInformation: {
          allOf: [
            ref('ClientMetadata'),
            {
              type: 'object',
              required: ['client_id', 'client_id_issued_at'],
              properties: {
                client_id: { type: 'string' },
                client_secret: { type: 'string' },
                client_id_issued_at: { type: 'integer' },
                client_secret_expires_at: { type: 'integer', description: '0: does not expire.' },
              },
            },
          ],
        },
      },
    },
  };
}

/** GET takes the token in the query, POST in the body (or either as `Authorization: Bearer`). */
function tokenIn(withBody: boolean): Json {
  if (!withBody) return { parameters: [bearerParam] };
  const schema = { type: 'object', properties: { access_token: { type: 'string' } } };
  return {
    requestBody: {
      required: false,
      description: 'The access token as a field, when it is not sent as `Authorization: Bearer` (one place only).',
      content: { 'application/x-www-form-urlencoded': { schema }, 'application/json': { schema } },
    },
  };
}

function tokenInfoOperation(operationId: string, withBody: boolean): Json {
  return {
    tags: ['Tokens'],
    operationId,
    summary: 'Is this access token good? (AuthGate\'s tokeninfo, for its resource servers)',
    security: bearerSecurity,
    ...tokenIn(withBody),
    responses: {
      '200': { description: 'The token is active; what it carries.', content: jsonContent(ref('TokenInfo')) },
      '400': response('OAuthError'),
      '401': response('InvalidToken'),
    },
  };
}

function userInfoOperation(operationId: string, withBody: boolean): Json {
  return {
    tags: ['User info'],
    operationId,
    summary: 'OpenID Connect UserInfo (OIDC Core §5.3)',
    description:
      'Needs a user\'s access token granted `openid`. A client_credentials (machine) token, which has no user, is refused with 403 `insufficient_scope`, as is a user token without `openid`.',
    security: bearerSecurity,
    ...tokenIn(withBody),
    responses: {
      '200': { description: 'The claims the token\'s scopes release.', content: jsonContent(ref('UserInfo')) },
      '400': response('OAuthError'),
      '401': response('InvalidToken'),
      '403': {
        description: 'RFC 6750 §3.1 `insufficient_scope`.',
        headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: 'Bearer error="insufficient_scope", scope="openid"' } },
        content: jsonContent(ref('OAuthError')),
      },
    },
  };
}
