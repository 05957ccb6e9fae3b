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

describe("AuthGate's per-endpoint limits (per address per minute)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TOKEN_RATE_LIMIT: '2', INTROSPECT_RATE_LIMIT: '1', LOGIN_RATE_LIMIT: '1', DEVICE_VERIFY_RATE_LIMIT: '1', TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  const post = (path: string, ip: string, body: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip }, body: new URLSearchParams(body) });

  test('TOKEN_RATE_LIMIT and INTROSPECT_RATE_LIMIT: beyond the limit, 429 with Retry-After and an OAuth error body', async () => {
    const grant = { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: 'nope', client_id: server.cliClientId };
    expect((await post('/oauth/token', '10.1.0.1', grant)).status).toBe(400);
    expect((await post('/oauth/token', '10.1.0.1', grant)).status).toBe(400);
    const limited = await post('/oauth/token', '10.1.0.1', grant);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect((await post('/oauth/token', '10.1.0.2', grant)).status).toBe(400);
    expect((await post('/oauth/introspect', '10.1.0.3', { token: 'x' })).status).toBe(401);
    expect((await post('/oauth/introspect', '10.1.0.3', { token: 'x' })).status).toBe(429);
  });

  test('LOGIN_RATE_LIMIT and DEVICE_VERIFY_RATE_LIMIT limit the form posts before anything else runs, in plain text', async () => {
    expect((await post('/login', '10.2.0.1', { username: 'admin', password: 'x' })).status).not.toBe(429);
    const login = await post('/login', '10.2.0.1', { username: 'admin', password: 'x' });
    expect(login.status).toBe(429);
    expect(login.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await login.text()).toMatch(/^Too many requests from this address; try again in \d+ seconds\.$/);
    expect((await post('/device/verify', '10.2.0.2', { user_code: 'ABCD-EFGH' })).status).not.toBe(429);
    expect((await post('/device/verify', '10.2.0.2', { user_code: 'ABCD-EFGH' })).status).toBe(429);
    // Other pages are not limited.
    expect((await fetch(`${server.url}/login`, { headers: { 'x-forwarded-for': '10.2.0.1' } })).status).toBe(200);
  });
});

describe('ENABLE_RATE_LIMIT=false', () => {
  test('switches the per-address request limits off', async () => {
    const server = await startTestServer({ ENABLE_RATE_LIMIT: 'false', DEVICE_CODE_RATE_LIMIT: '1', TRUST_PROXY: 'true' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' }, { 'x-forwarded-for': '10.3.0.1' });
        expect(res.status).toBe(200);
      }
    } finally {
      await server.close();
    }
  });
});
