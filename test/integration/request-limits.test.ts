// AuthGate's per-endpoint request limits (koa-ratelimit): defaults and bad configuration, the 429
// answers on JSON and HTML routes, whose budget a request spends (address, or the client that proved
// its secret), the RATE_LIMIT_EXCEEDED audit event and the rate_limit_hits_total counter, and, with
// TEST_REDIS_URL, one budget shared by two instances.
import { randomUUID } from 'node:crypto';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/ops/logger.js';
import { createClient, type TestClient } from '../helpers/clients.js';
import { postForm } from '../helpers/oauth.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/tmp/authgate-unused', ...env });

/** The instance's `rate_limit_hits_total{limit}` (each server has its own registry). */
async function hits(server: TestServer, limit: string): Promise<number> {
  return (await server.authgate.metrics.rateLimitHits.get()).values.find((v) => v.labels.limit === limit)?.value ?? 0;
}

describe('configuration', () => {
  test("AuthGate's limits are on by default with AuthGate's values", () => {
    expect(load({}).rateLimits).toMatchObject({
      enabled: true,
      loginPerMinute: 5,
      deviceCodePerMinute: 10,
      tokenPerMinute: 20,
      deviceVerifyPerMinute: 10,
      introspectPerMinute: 20,
      registration: 5,
      registrationWindowSeconds: 60,
    });
  });

  test('ENABLE_RATE_LIMIT=false switches every one off; 0 switches one off', () => {
    expect(load({ ENABLE_RATE_LIMIT: 'false', TOKEN_RATE_LIMIT: '3' }).rateLimits).toMatchObject({
      enabled: false,
      loginPerMinute: 0,
      deviceCodePerMinute: 0,
      tokenPerMinute: 0,
      deviceVerifyPerMinute: 0,
      introspectPerMinute: 0,
      registration: 0,
    });
    expect(load({ LOGIN_RATE_LIMIT: '0' }).rateLimits).toMatchObject({ loginPerMinute: 0, tokenPerMinute: 20 });
  });

  test.each([
    ['LOGIN_RATE_LIMIT', 'five'],
    ['TOKEN_RATE_LIMIT', '-1'],
    ['INTROSPECT_RATE_LIMIT', '2.5'],
    ['DEVICE_VERIFY_RATE_LIMIT', '1e3'],
    ['DEVICE_CODE_RATE_LIMIT', ' -3 '],
    ['DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT', 'lots'],
  ])('%s=%s stops startup naming the variable', (name, value) => {
    expect(() => load({ [name]: value })).toThrow(new RegExp(`^${name} must be an integer`));
  });

  test('a malformed limit is an error even with ENABLE_RATE_LIMIT=false; a malformed switch or store too', () => {
    expect(() => load({ ENABLE_RATE_LIMIT: 'false', TOKEN_RATE_LIMIT: 'x' })).toThrow(/TOKEN_RATE_LIMIT/);
    expect(() => load({ ENABLE_RATE_LIMIT: 'sometimes' })).toThrow(/ENABLE_RATE_LIMIT must be true or false/);
    expect(() => load({ RATE_LIMIT_STORE: 'memcached' })).toThrow(/RATE_LIMIT_STORE must be one of memory, redis/);
  });

  test('the request limits are no longer listed as "not implemented"', () => {
    expect(load({ LOGIN_RATE_LIMIT: '5', TOKEN_RATE_LIMIT: '20' }).warnings).toEqual([]);
  });
});

describe('limits on the protocol endpoints (JSON)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TOKEN_RATE_LIMIT: '3', INTROSPECT_RATE_LIMIT: '2', DEVICE_CODE_RATE_LIMIT: '3', TRUST_PROXY: 'true', METRICS_ENABLED: 'true' });
  });
  afterAll(() => server.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const token = (fields: Record<string, string>, ip: string) => postForm(`${server.url}/oauth/token`, fields, from(ip));
  const clientCredentials = (c: TestClient, ip: string, secret = c.clientSecret!) =>
    token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: secret, scope: 'read' }, ip);
  const confidential = () => createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });

  async function auditEvents(where: Record<string, unknown>) {
    await server.authgate.services.audit.flush();
    return server.authgate.db.auditEvent.findMany({ where: { eventType: 'RATE_LIMIT_EXCEEDED', ...where } });
  }

  test('anonymous requests: per address; 429 with Retry-After, X-RateLimit-* and an RFC 6749-style body; counted', async () => {
    const before = await hits(server, 'token');
    const grant = { grant_type: 'client_credentials' }; // no client: the address's budget
    const remaining: (string | null)[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await token(grant, '10.1.0.1');
      expect(res.status).toBe(401);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
      remaining.push(res.headers.get('x-ratelimit-remaining'));
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const limited = await token(grant, '10.1.0.1');
    const now = Math.floor(Date.now() / 1000);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    const reset = limited.headers.get('x-ratelimit-reset')!;
    expect(reset).toMatch(/^\d+$/);
    expect(Number(reset)).toBeGreaterThanOrEqual(now);
    expect(Number(reset)).toBeLessThanOrEqual(now + 61);
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(limited.json).toEqual({ error: 'temporarily_unavailable', error_description: `too many requests; retry in ${retryAfter} seconds` });
    expect(await hits(server, 'token')).toBe(before + 1);
    // Another address has its own budget.
    expect((await token(grant, '10.1.0.2')).status).toBe(401);
  });

  test('a busy client does not spend another client\'s budget, nor the anonymous budget of its address', async () => {
    const [a, b] = [await confidential(), await confidential()];
    for (let i = 0; i < 3; i++) expect((await clientCredentials(a, '10.2.0.1')).status).toBe(200);
    expect((await clientCredentials(a, '10.2.0.1')).status).toBe(429);
    // From another address too: the budget belongs to the client, not to where it calls from.
    expect((await clientCredentials(a, '10.2.0.9')).status).toBe(429);
    // Its neighbour on the same address is not throttled.
    for (let i = 0; i < 3; i++) expect((await clientCredentials(b, '10.2.0.1')).status).toBe(200);
    expect((await token({ grant_type: 'client_credentials' }, '10.2.0.1')).status).toBe(401);
  });

  test("claiming a client's client_id without its secret spends the claimant's address budget, never the client's", async () => {
    const victim = await confidential();
    for (let i = 0; i < 3; i++) expect((await clientCredentials(victim, '10.3.0.66', 'wrong-secret')).status).toBe(401);
    expect((await clientCredentials(victim, '10.3.0.66', 'wrong-secret')).status).toBe(429);
    // Basic authentication with a wrong secret: the same address budget, already spent.
    const basic = `Basic ${Buffer.from(`${victim.clientId}:nope`).toString('base64')}`;
    expect((await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, { ...from('10.3.0.66'), authorization: basic })).status).toBe(429);
    // The victim's whole budget is intact, even from the attacker's address.
    for (let i = 0; i < 3; i++) expect((await clientCredentials(victim, '10.3.0.66')).status).toBe(200);
    expect((await clientCredentials(victim, '10.3.0.1')).status).toBe(429);
  });

  test('invented client_ids buy no fresh budgets: unknown clients spend their address budget', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postForm(`${server.url}/oauth/device/code`, { client_id: randomUUID(), scope: 'read' }, from('10.4.0.1'));
      expect(res.status).toBe(401);
    }
    expect((await postForm(`${server.url}/oauth/device/code`, { client_id: randomUUID(), scope: 'read' }, from('10.4.0.1'))).status).toBe(429);
  });

  test("a public client's client_id proves nothing: its budget is per address, so one claimant cannot exhaust it for others", async () => {
    const device = (ip: string) => postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' }, from(ip));
    for (let i = 0; i < 3; i++) expect((await device('10.5.0.1')).status).toBe(200);
    expect((await device('10.5.0.1')).status).toBe(429);
    expect((await device('10.5.0.2')).status).toBe(200);
    // Nothing was stored for the refused request (nor for the unknown clients of the test before).
    expect(await server.authgate.db.deviceCode.count()).toBe(4);
  });

  test('introspection is limited per authenticated resource server', async () => {
    const rs = await confidential();
    const basic = { authorization: `Basic ${Buffer.from(`${rs.clientId}:${rs.clientSecret}`).toString('base64')}` };
    const introspect = (ip: string) => postForm(`${server.url}/oauth/introspect`, { token: 'not-a-token' }, { ...basic, ...from(ip) });
    expect((await introspect('10.6.0.1')).json).toEqual({ active: false });
    expect((await introspect('10.6.0.2')).json).toEqual({ active: false });
    const limited = await introspect('10.6.0.3');
    expect(limited.status).toBe(429);
    expect(limited.json.error).toBe('temporarily_unavailable');
  });

  test('RATE_LIMIT_EXCEEDED is audited once per key and window, with the limit and the address, and no secret', async () => {
    const c = await confidential();
    for (let i = 0; i < 3; i++) expect((await clientCredentials(c, '10.7.0.1')).status).toBe(200);
    const before = await hits(server, 'token');
    for (let i = 0; i < 4; i++) expect((await clientCredentials(c, '10.7.0.1')).status).toBe(429);
    expect(await hits(server, 'token')).toBe(before + 4);
    const events = await auditEvents({ clientId: c.clientId });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'WARNING', success: false, ipAddress: '10.7.0.1', clientId: c.clientId });
    expect(JSON.parse(events[0]!.details)).toMatchObject({ limit: 'token', max_requests: 3, window_seconds: 60, keyed_by: 'client', path: '/oauth/token' });
    const all = JSON.stringify(await server.authgate.db.auditEvent.findMany({ where: { eventType: 'RATE_LIMIT_EXCEEDED' } }));
    expect(all).not.toContain(c.clientSecret);
    expect(all).not.toContain('wrong-secret');
    // Anonymous refusals: keyed by address, one event.
    for (let i = 0; i < 5; i++) await token({ grant_type: 'client_credentials' }, '10.7.0.2');
    const anonymous = await auditEvents({ ipAddress: '10.7.0.2' });
    expect(anonymous).toHaveLength(1);
    expect(JSON.parse(anonymous[0]!.details)).toMatchObject({ limit: 'token', keyed_by: 'address' });
  });

  test('an IPv6 /64 is one address: its addresses share one budget, the next /64 has its own; the audit keeps the full address', async () => {
    const grant = { grant_type: 'client_credentials' };
    for (let i = 1; i <= 3; i++) expect((await token(grant, `2001:db8:10:1::${i}`)).status).toBe(401);
    const limited = await token(grant, '2001:db8:10:1:abcd:ef01:2345:6789');
    expect(limited.status).toBe(429);
    expect(limited.json.error).toBe('temporarily_unavailable');
    expect((await token(grant, '2001:db8:10:2::1')).status).toBe(401);
    const [event] = await auditEvents({ ipAddress: '2001:db8:10:1:abcd:ef01:2345:6789' });
    expect(JSON.parse(event!.details)).toMatchObject({ limit: 'token', keyed_by: 'address' });
  });

  test("a public client's per-address budget counts an IPv6 /64 as one address", async () => {
    const device = (ip: string) => postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' }, from(ip));
    for (let i = 1; i <= 3; i++) expect((await device(`2001:db8:11:1::${i}`)).status).toBe(200);
    expect((await device('2001:db8:11:1::ffff')).status).toBe(429);
    expect((await device('2001:db8:11:2::1')).status).toBe(200);
  });
});

describe('limits on the form posts (HTML)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ LOGIN_RATE_LIMIT: '2', DEVICE_VERIFY_RATE_LIMIT: '1', TRUST_PROXY: 'true', METRICS_ENABLED: 'true' });
  });
  afterAll(() => server.close());

  const post = (path: string, ip: string, body: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip }, body: new URLSearchParams(body) });

  test('POST /login beyond LOGIN_RATE_LIMIT: a 429 page with Retry-After, before anything else runs', async () => {
    const before = await hits(server, 'login');
    for (let i = 0; i < 2; i++) expect((await post('/login', '10.8.0.1', { username: 'admin', password: 'x' })).status).not.toBe(429);
    const limited = await post('/login', '10.8.0.1', { username: 'admin', password: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('content-type')).toMatch(/^text\/html/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const html = await limited.text();
    expect(html).toContain('<h1>Too many requests</h1>');
    expect(html).toContain(`Please wait ${retryAfter} second`);
    expect(html).toContain('<html');
    expect(await hits(server, 'login')).toBe(before + 1);
    // Other addresses and other pages are not limited.
    expect((await post('/login', '10.8.0.2', { username: 'admin', password: 'x' })).status).not.toBe(429);
    expect((await fetch(`${server.url}/login`, { headers: { 'x-forwarded-for': '10.8.0.1' } })).status).toBe(200);
    await server.authgate.services.audit.flush();
    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'RATE_LIMIT_EXCEEDED', ipAddress: '10.8.0.1' } });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details)).toMatchObject({ limit: 'login', keyed_by: 'address', path: '/login' });
    expect(events[0]!.details).not.toContain('"password"');
  });

  test('POST /device/verify beyond DEVICE_VERIFY_RATE_LIMIT', async () => {
    expect((await post('/device/verify', '10.8.1.1', { user_code: 'ABCD-EFGH' })).status).not.toBe(429);
    const limited = await post('/device/verify', '10.8.1.1', { user_code: 'ABCD-EFGH' });
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many requests');
  });
});

describe('open registration', () => {
  test('is limited per address; trusted registrars (initial access token) are not', async () => {
    const token = 't'.repeat(40);
    const open = await startTestServer({ RATE_LIMIT_REGISTRATION: '2', ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' });
    const trusted = await startTestServer({ RATE_LIMIT_REGISTRATION: '1', ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', DYNAMIC_CLIENT_REGISTRATION_TOKEN: token });
    try {
      const register = (url: string, headers: Record<string, string> = {}) =>
        fetch(`${url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }) });
      expect((await register(open.url)).status).toBe(201);
      expect((await register(open.url)).status).toBe(201);
      const limited = await register(open.url);
      expect(limited.status).toBe(429);
      expect(await limited.json()).toMatchObject({ error: 'temporarily_unavailable' });
      for (let i = 0; i < 3; i++) expect((await register(trusted.url, { authorization: `Bearer ${token}` })).status).toBe(201);
    } finally {
      await open.close();
      await trusted.close();
    }
  });
});

describe('ENABLE_RATE_LIMIT=false', () => {
  test('switches the request limits off', async () => {
    const server = await startTestServer({ ENABLE_RATE_LIMIT: 'false', DEVICE_CODE_RATE_LIMIT: '1', LOGIN_RATE_LIMIT: '1' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' });
        expect(res.status).toBe(200);
        expect(res.headers.get('x-ratelimit-limit')).toBeNull();
      }
    } finally {
      await server.close();
    }
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
(redisUrl ? describe : describe.skip)('two instances on one Redis (TEST_REDIS_URL)', () => {
  let a: TestServer;
  let b: AuthGate;
  let bUrl: string;
  beforeAll(async () => {
    // startTestServer gives the instance its own REDIS_KEY_PREFIX; the second one shares its config.
    a = await startTestServer({ LOGIN_RATE_LIMIT: '4', TOKEN_RATE_LIMIT: '3', TRUST_PROXY: 'true' });
    b = await createAuthGate(a.config, createLogger('silent'));
    const port = await freePort();
    await b.listen(port, '127.0.0.1');
    bUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  test('a login limit of N allows exactly N attempts in total across both, even when they race', async () => {
    const attempt = (url: string) =>
      fetch(`${url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '10.9.0.1' },
        body: new URLSearchParams({ username: 'admin', password: 'x' }),
      }).then((r) => r.status);
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(i % 2 === 0 ? a.url : bUrl)));
    expect(statuses.filter((s) => s !== 429)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    // One audit event for the key and window, though both instances refused.
    await a.authgate.services.audit.flush();
    await b.services.audit.flush();
    const events = await a.authgate.db.auditEvent.findMany({ where: { eventType: 'RATE_LIMIT_EXCEEDED', ipAddress: '10.9.0.1' } });
    expect(events).toHaveLength(1);
  });

  test("a client's budget is one across both instances", async () => {
    const c = await createClient(a, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const fields = { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret!, scope: 'read' };
    const statuses = await Promise.all([a.url, bUrl, a.url, bUrl, a.url, bUrl].map((url) => postForm(`${url}/oauth/token`, fields).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
  });
});

describe('the window ends', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const stores: [string, boolean][] = [['memory', false], ...(redisUrl ? [['Redis', true] as [string, boolean]] : [])];
  test.each(stores)(
    '%s: the budget is back once the window has passed',
    async (_name, useRedis) => {
      const { RequestLimits } = await import('../../src/http/rate-limit.js');
      const { LimitStore } = await import('../../src/ops/attempt-limiter.js');
      const { connectRedis, closeRedis } = await import('../../src/ops/redis.js');
      const Koa = (await import('koa')).default;
      const logger = createLogger('silent');
      const redis = useRedis ? await connectRedis(redisUrl!, logger) : undefined;
      const keyPrefix = `authgate-test:${randomUUID()}:`;
      const limits = new RequestLimits({ redis, keyPrefix, store: new LimitStore({ redis, keyPrefix, failClosed: false, logger }), audit: server.authgate.services.audit, metrics: server.authgate.metrics });
      const app = new Koa();
      app.use(limits.limit('token', { max: 2, windowSeconds: 1, refuse: (ctx) => (ctx.body = 'refused') }));
      app.use((ctx) => (ctx.body = 'ok'));
      const http = app.listen(0, '127.0.0.1');
      try {
        await new Promise((r) => http.once('listening', r));
        const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/`;
        const status = () => fetch(url).then((r) => r.status);
        expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
        await new Promise((r) => setTimeout(r, 1100));
        expect([await status(), await status(), await status()]).toEqual([200, 200, 429]);
      } finally {
        http.close();
        limits.close();
        if (redis) await closeRedis(redis);
      }
    },
    15_000,
  );
});
