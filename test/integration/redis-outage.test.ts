// A Redis of the test's own, stopped (killed) while the server runs and started again on the same
// port: pages and endpoints keep answering (never a 5xx), the log and the metrics say Redis is down,
// the limits fail open (default) or closed (RATE_LIMIT_FAIL_CLOSED=true), and hold again once Redis
// is back.
import { randomUUID } from 'node:crypto';
import { closeRedis, connectRedis } from '../../src/ops/redis.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser, findForm } from '../helpers/browser.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { postForm } from '../helpers/oauth.js';
import { startOwnRedis, waitUntil, type OwnRedis } from '../helpers/redis-server.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'the-right-password';

// The server instance's own registry: redis_up follows its shared connection.
async function gaugeValue(s: Setup): Promise<number | undefined> {
  return (await s.server.authgate.metrics.redisUp.get()).values[0]?.value;
}

async function backendErrors(s: Setup): Promise<number> {
  return (await s.server.authgate.metrics.rateLimitBackendErrors.get()).values.reduce((sum, v) => sum + v.value, 0);
}

interface Setup {
  redis: OwnRedis;
  server: TestServer;
  log: CapturedLog;
  username: string;
  browser: ScriptedBrowser;
}

async function setUp(env: Record<string, string> = {}): Promise<Setup> {
  const redis = await startOwnRedis();
  const log = captureLog('info');
  const server = await startTestServer(
    {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `authgate-test:${randomUUID()}:`,
      // redis_up and the limit store's error counter are read from the instance's metrics.
      METRICS_ENABLED: 'true',
      TRUST_PROXY: 'true',
      ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
      // The request limits on device codes and registration are part of what is tested here; the
      // sign-in form's (5/min) would refuse this test's many sign-ins before the guessing limit does.
      ENABLE_RATE_LIMIT: 'true',
      LOGIN_RATE_LIMIT: '0',
      ...env,
    },
    { logger: log.logger },
  );
  const username = `user-${randomUUID().slice(0, 8)}`;
  await server.authgate.db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) } });
  // Signed in while Redis is up, to reach the device page later.
  const browser = new ScriptedBrowser(server.url);
  expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
  return { redis, server, log, username, browser };
}

async function login(s: Setup, password: string, address = '198.51.100.7') {
  const page = await fetch(`${s.server.url}/login`);
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = findForm(await page.text(), '/login').hidden._csrf!;
  const res = await fetch(`${s.server.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ _csrf: csrf, username: s.username, password, redirect: '/' }).toString(),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), html: await res.text() };
}

function register(s: Setup) {
  return fetch(`${s.server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.8' },
    body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }),
  });
}

async function enterCode(s: Setup, code = 'BCDF-GHJK') {
  return s.browser.submit(await s.browser.get('/device'), '/device/verify', { user_code: code });
}

async function killRedis(s: Setup): Promise<void> {
  await s.redis.stop();
  await waitUntil(() => s.log.lines().some((l) => l.msg === 'Redis is down; reconnecting'), 5000);
  // The audit stream's own connections may notice first (and log the same line); redis_up follows the
  // shared connection, which notices on its own schedule.
  await waitUntil(async () => (await gaugeValue(s)) === 0, 5000);
}

async function restartRedis(s: Setup): Promise<void> {
  await s.redis.start();
  await waitUntil(() => s.log.lines().some((l) => l.msg === 'Redis is back'), 10_000);
  await waitUntil(async () => (await gaugeValue(s)) === 1, 10_000);
}

async function tearDown(s: Setup | undefined): Promise<void> {
  if (!s) return;
  await s.server.close();
  await s.redis.stop();
}

describe('Redis goes away while the server runs: limits fail open (the default)', () => {
  let s: Setup | undefined;
  afterAll(() => tearDown(s));

  test('pages and endpoints keep answering, the log says Redis is down, limits hold again after it returns', async () => {
    s = await setUp();
    const errorsBefore = await backendErrors(s);
    await killRedis(s);

    expect((await fetch(`${s.server.url}/login`)).status).toBe(200);
    // Failing open: every wrong password is evaluated, none locked out, none a 5xx.
    for (let i = 0; i < 7; i++) expect((await login(s, 'wrong')).status).toBe(401);
    expect((await s.browser.get('/device')).status).toBe(200);
    expect((await enterCode(s)).status).toBe(400);
    const device = await postForm(`${s.server.url}/oauth/device/code`, { client_id: s.server.cliClientId, scope: 'read' });
    expect(device.status).toBe(200);
    expect((await register(s)).status).toBe(201);
    expect((await login(s, PASSWORD)).status).toBe(302);

    expect(await backendErrors(s)).toBeGreaterThan(errorsBefore);
    const unreachable = s.log.lines().filter((l) => l.msg === 'limit store unreachable');
    // Throttled: one line for the burst, not one per failed check.
    expect(unreachable.length).toBeGreaterThanOrEqual(1);
    expect(unreachable.length).toBeLessThan(5);
    expect(unreachable[0]).toMatchObject({ level: 'warn', policy: 'open' });
    expect(s.log.lines().filter((l) => typeof l.status === 'number' && (l.status as number) >= 500)).toEqual([]);

    await restartRedis(s);
    // The restarted Redis is empty: a fresh count, and the limit holds again.
    for (let i = 0; i < 5; i++) expect((await login(s, 'wrong')).status).toBe(401);
    const locked = await login(s, 'wrong');
    expect(locked.status).toBe(429);
    expect(locked.html).toContain('Too many failed attempts');
  });
});

describe('Redis goes away while the server runs: RATE_LIMIT_FAIL_CLOSED=true', () => {
  let s: Setup | undefined;
  afterAll(() => tearDown(s));

  test('guarded actions get a clear 503 while Redis is down; unguarded pages keep working; all resumes when it returns', async () => {
    s = await setUp({ RATE_LIMIT_FAIL_CLOSED: 'true' });
    await killRedis(s);

    expect((await fetch(`${s.server.url}/login`)).status).toBe(200);
    expect((await s.browser.get('/device')).status).toBe(200);

    const refused = await login(s, PASSWORD);
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(refused.html).toContain('temporarily unavailable');
    // Refused before the password check: nothing evaluated, nothing audited as a failure or success.
    await s.server.authgate.services.audit.flush();
    expect(await s.server.authgate.db.auditEvent.count({ where: { actorUsername: s.username } })).toBe(0);

    expect((await enterCode(s)).status).toBe(503);
    const device = await postForm(`${s.server.url}/oauth/device/code`, { client_id: s.server.cliClientId, scope: 'read' });
    expect(device.status).toBe(503);
    expect(device.json).toMatchObject({ error: 'temporarily_unavailable' });
    expect(Number(device.headers.get('retry-after'))).toBeGreaterThan(0);
    const registration = await register(s);
    expect(registration.status).toBe(503);
    expect(await registration.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(s.log.lines().find((l) => l.msg === 'limit store unreachable')).toMatchObject({ policy: 'closed' });

    await restartRedis(s);
    expect((await login(s, PASSWORD)).status).toBe(302);
    expect((await postForm(`${s.server.url}/oauth/device/code`, { client_id: s.server.cliClientId, scope: 'read' })).status).toBe(200);
  });
});

describe('a normal shutdown', () => {
  test('closing the connection ourselves is not reported as an outage', async () => {
    const redis = await startOwnRedis();
    const log = captureLog('debug');
    try {
      const client = await connectRedis(redis.url, log.logger);
      await closeRedis(client);
      await new Promise((r) => setTimeout(r, 300));
      expect(log.lines().map((l) => l.msg)).toEqual([]);
    } finally {
      await redis.stop();
    }
  });
});
