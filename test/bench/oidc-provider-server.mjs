// The comparison baseline for npm run bench: node-oidc-provider with one confidential client and the
// same features the measured paths use. It keeps its state in memory (its development adapter), so it
// does no database work at all: an upper bound for a Node OAuth server, not a like-for-like store.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench',
      client_secret: process.env.BENCH_CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read',
    },
  ],
  scopes: ['read'],
  ttl: { ClientCredentials: 3600 },
  features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: false } },
});
provider.listen(port, '127.0.0.1');
