// Several identical instances behind one issuer share the database: what one instance revokes or
// disables stops working on every other at once, and a second instance starting on a migrated,
// seeded database changes nothing.
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { createLogger } from '../../src/ops/logger.js';
import { createClient } from '../helpers/clients.js';
import { postForm } from '../helpers/oauth.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

describe('two instances on one database', () => {
  let a: TestServer;
  let b: AuthGate;
  let bUrl: string;
  beforeAll(async () => {
    a = await startTestServer();
    b = await createAuthGate(a.config, createLogger('silent'));
    const port = await freePort();
    await b.listen(port, '127.0.0.1');
    bUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  test('the second instance seeded nothing and shares clients', () => {
    expect(b.seed.seeded).toBe(false);
  });

  test('a token issued by one instance is revoked through the other and dead on both', async () => {
    const svc = await createClient(a, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const creds = { client_id: svc.clientId, client_secret: svc.clientSecret! };
    const issued = await postForm(`${a.url}/oauth/token`, { grant_type: 'client_credentials', ...creds });
    const token = issued.json.access_token as string;
    const info = (url: string) => fetch(`${url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await info(a.url)).toBe(200);
    expect(await info(bUrl)).toBe(200);
    expect((await postForm(`${bUrl}/oauth/revoke`, { token, ...creds })).status).toBe(200);
    expect(await info(a.url)).toBe(401);
    expect(await info(bUrl)).toBe(401);
  });

  test('a client disabled through one instance is refused by the other at the next request', async () => {
    const svc = await createClient(a, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const creds = { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! };
    expect((await postForm(`${bUrl}/oauth/token`, creds)).status).toBe(200);
    await a.authgate.db.oAuthClient.update({ where: { clientId: svc.clientId }, data: { active: false } });
    const refused = await postForm(`${bUrl}/oauth/token`, creds);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');
  });
});
