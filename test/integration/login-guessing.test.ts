// Password guessing against one account from many addresses at once (issue 6): the limit is counted
// before the password is checked, so of 20 racing wrong passwords at most 5 are evaluated (5
// AUTHENTICATION_FAILURE rows), the rest get the lockout page, and the lockout is audited once.
// Device user_codes typed by a signed-in user follow the same policy.
// With TEST_REDIS_URL set the counters live in Redis (startTestServer passes REDIS_URL).
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser, findForm } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const ROUNDS = 5;
const RACERS = 20;
const MAX_FAILURES = 5;

/** A fresh anonymous session with its CSRF token, as a browser gets it from GET /login. */
async function loginForm(server: TestServer): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(`${server.url}/login`);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { cookie, csrf: findForm(await res.text(), '/login').hidden._csrf! };
}

async function postLogin(server: TestServer, form: { cookie: string; csrf: string }, username: string, password: string, address: string) {
  const res = await fetch(`${server.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: form.cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ _csrf: form.csrf, username, password, redirect: '/' }).toString(),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), html: await res.text() };
}

async function createUser(server: TestServer, password: string): Promise<string> {
  const username = `user-${randomUUID().slice(0, 8)}`;
  await server.authgate.db.user.create({ data: { username, email: `${username}@example.com`, passwordHash: await hashPassword(password), role: 'user' } });
  return username;
}

async function auditCount(server: TestServer, eventType: string, username: string): Promise<number> {
  await server.authgate.services.audit.flush();
  return server.authgate.db.auditEvent.count({ where: { eventType, actorUsername: username } });
}

describe('password guessing is limited per account, counted before the check', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  test(`${RACERS} concurrent wrong passwords for one account from ${RACERS} addresses: at most ${MAX_FAILURES} evaluated, the rest locked out (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const username = await createUser(server, 'the-right-password');
      const forms = await Promise.all(Array.from({ length: RACERS }, () => loginForm(server)));
      const results = await Promise.all(forms.map((form, i) => postLogin(server, form, username, `wrong-${i}`, `198.51.${round}.${i + 1}`)));

      const evaluated = await auditCount(server, 'AUTHENTICATION_FAILURE', username);
      // Counting is atomic and nothing else refuses these: exactly the limit is evaluated, never more.
      expect(evaluated).toBe(MAX_FAILURES);
      expect(results.filter((r) => r.status === 401)).toHaveLength(evaluated);
      const locked = results.filter((r) => r.status === 429);
      expect(locked).toHaveLength(RACERS - evaluated);
      for (const r of locked) {
        expect(Number(r.retryAfter)).toBeGreaterThan(0);
        expect(r.html).toMatch(/Too many failed attempts\. Try again in \d+ (seconds|minutes)\./);
      }
      // One lockout event for the account, whatever the number of refused requests.
      expect(await auditCount(server, 'LOGIN_LOCKED_OUT', username)).toBe(1);
      const [lockout] = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'LOGIN_LOCKED_OUT', actorUsername: username } });
      expect(lockout!.severity).toBe('WARNING');
      expect(JSON.parse(lockout!.details)).toMatchObject({ subject_kind: 'account', max_failures: MAX_FAILURES });
      expect(lockout!.details).not.toContain('wrong-');

      // Locked out even with the right password, from a new address: the password is not even checked.
      const right = await postLogin(server, await loginForm(server), username, 'the-right-password', '203.0.113.77');
      expect(right.status).toBe(429);
      expect(await auditCount(server, 'AUTHENTICATION_SUCCESS', username)).toBe(0);
    }
  });

  test('the account limit ignores letter case, so "Admin" and "admin" share one count', async () => {
    const username = await createUser(server, 'the-right-password');
    for (let i = 0; i < MAX_FAILURES; i++) {
      const name = i % 2 ? username.toUpperCase() : username;
      expect((await postLogin(server, await loginForm(server), name, 'wrong', `192.0.2.${i + 1}`)).status).toBe(401);
    }
    expect((await postLogin(server, await loginForm(server), username, 'wrong', '192.0.2.99')).status).toBe(429);
  });

  test('a success is not penalised and resets the account count', async () => {
    const username = await createUser(server, 'the-right-password');
    const address = '192.0.2.200';
    for (let i = 0; i < MAX_FAILURES - 1; i++) expect((await postLogin(server, await loginForm(server), username, 'wrong', address)).status).toBe(401);
    expect((await postLogin(server, await loginForm(server), username, 'the-right-password', address)).status).toBe(302);
    // The count started again: another full set of failures is evaluated before the lockout.
    for (let i = 0; i < MAX_FAILURES; i++) expect((await postLogin(server, await loginForm(server), username, 'wrong', address)).status).toBe(401);
    expect((await postLogin(server, await loginForm(server), username, 'wrong', address)).status).toBe(429);
  });
});

describe('user_code guessing follows the same policy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true' });
  });
  afterAll(() => server.close());

  test(`${RACERS} concurrent wrong codes from one signed-in user: ${MAX_FAILURES} looked up, the rest locked out, one audited lockout`, async () => {
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
    const form = await browser.get('/device');
    const results = await Promise.all(Array.from({ length: RACERS }, () => browser.submit(form, '/device/verify', { user_code: 'BCDF-GHJK' })));
    expect(results.filter((r) => r.status === 400)).toHaveLength(MAX_FAILURES);
    const locked = results.filter((r) => r.status === 429);
    expect(locked).toHaveLength(RACERS - MAX_FAILURES);
    expect(locked[0]!.html).toMatch(/Too many wrong codes\. Try again in \d+ (seconds|minutes)\./);
    await server.authgate.services.audit.flush();
    const lockouts = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'USER_CODE_LOCKED_OUT', actorUsername: 'admin' } });
    expect(lockouts).toHaveLength(1);
    expect(JSON.parse(lockouts[0]!.details)).toMatchObject({ subject_kind: 'account' });
  });
});
