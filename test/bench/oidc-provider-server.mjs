// The peer for npm run bench: node-oidc-provider 9 with one confidential client, its in-memory
// (development) adapter, and client_credentials access tokens issued as JWTs signed ES256 — the same
// token format and algorithm as the server under test. node-oidc-provider only issues JWT access tokens
// for a resource server, so the client asks with `resource=` (RFC 8707) and getResourceServerInfo
// answers with accessTokenFormat 'jwt' and ES256.
//
// Run as its own process (never inside the load generator's): PORT, BENCH_CLIENT_SECRET and
// BENCH_RESOURCE come from the parent (servers.mjs).
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const resource = process.env.BENCH_RESOURCE;
if (!port || !resource || !process.env.BENCH_CLIENT_SECRET) throw new Error('PORT, BENCH_RESOURCE and BENCH_CLIENT_SECRET are required');

// A fresh P-256 key per run, as the server under test gets (private JWK: the provider signs with it).
const es256 = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), alg: 'ES256', use: 'sig', kid: 'bench-es256' };

const provider = new Provider(`http://127.0.0.1:${port}`, {
  jwks: { keys: [es256] },
  clients: [
    {
      client_id: 'bench',
      client_secret: process.env.BENCH_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read',
      token_endpoint_auth_method: 'client_secret_basic',
      // The only key is ES256; without this the client would default to RS256 ID tokens it never gets.
      id_token_signed_response_alg: 'ES256',
    },
  ],
  scopes: ['read'],
  ttl: { ClientCredentials: 3600 },
  features: {
    clientCredentials: { enabled: true },
    // A client may introspect its own tokens (the default policy allows it too, with a notice on stderr).
    introspection: { enabled: true, allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      // No resource= → no resource server → an opaque token kept in the adapter. The introspection
      // scenario uses that: node-oidc-provider refuses to introspect its own JWT access tokens
      // (lib/shared/reject_structured_tokens.js answers unsupported_token_type).
      defaultResource: () => undefined,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Provider.errors.InvalidTarget();
        return { scope: 'read', audience: resource, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
      },
    },
  },
});
provider.listen(port, '127.0.0.1');
