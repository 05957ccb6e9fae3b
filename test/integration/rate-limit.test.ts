// Per-address request limits on the unauthenticated endpoints that store rows.
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('request rate limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ RATE_LIMIT_DEVICE_CODE: '3', RATE_LIMIT_REGISTRATION: '2', ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  const deviceCode = (ip: string) => postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' }, { 'x-forwarded-for': ip });

  test('device authorization requests beyond the limit get 429 with Retry-After and an error body; other addresses are unaffected', async () => {
    for (let i = 0; i < 3; i++) expect((await deviceCode('10.0.0.1')).status).toBe(200);
    const limited = await deviceCode('10.0.0.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.json).toMatchObject({ error: 'temporarily_unavailable' });
    expect((await deviceCode('10.0.0.2')).status).toBe(200);
    // Nothing was stored for the refused request.
    expect(await server.authgate.db.deviceCode.count()).toBe(4);
  });

  test('open registration is limited per address', async () => {
    const register = () =>
      fetch(`${server.url}/oauth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.9' },
        body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
      });
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(429);
  });
});

describe('registration with an initial access token', () => {
  test('trusted registrars are not rate limited', async () => {
    const token = 't'.repeat(40);
    const server = await startTestServer({ RATE_LIMIT_REGISTRATION: '1', ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', DYNAMIC_CLIENT_REGISTRATION_TOKEN: token });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${server.url}/oauth/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
        });
        expect(res.status).toBe(201);
      }
    } finally {
      await server.close();
    }
  });
});
