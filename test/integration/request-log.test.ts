// Following one request through the logs: a request id in the response header and on every log line
// of that request (the access line, RFC error answers, the 500 page), one access line per request
// without query string, and no credential anywhere in the log.
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/ops/logger.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('request ids and the access log', () => {
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog('info');
    server = await startTestServer({}, { logger: log.logger });
  });
  afterAll(() => server.close());

  const linesOf = (requestId: string) => log.lines().filter((l) => l.request_id === requestId);

  test('a generated id is echoed and carried by exactly one access line, which has no query string', async () => {
    const res = await fetch(`${server.url}/login?redirect=/after-login-query-marker`);
    expect(res.status).toBe(200);
    const id = res.headers.get('x-request-id')!;
    expect(id).toMatch(UUID);
    const access = linesOf(id).filter((l) => l.msg === 'request');
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({ level: 'info', method: 'GET', path: '/login', route: '/login', status: 200 });
    expect(typeof access[0]!.duration_ms).toBe('number');
    expect(log.text()).not.toContain('after-login-query-marker');
  });

  test("a sane incoming X-Request-Id is kept; anything else is replaced", async () => {
    const mine = `edge-${randomUUID()}`;
    const kept = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { 'x-request-id': mine } });
    expect(kept.headers.get('x-request-id')).toBe(mine);
    expect(linesOf(mine).filter((l) => l.msg === 'request')).toHaveLength(1);
    for (const bad of ['has spaces in it', 'x'.repeat(200), '"quoted"']) {
      const res = await fetch(`${server.url}/health`, { headers: { 'x-request-id': bad } });
      expect(res.headers.get('x-request-id')).toMatch(UUID);
    }
  });

  test('an RFC error answer is logged with the request id', async () => {
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'urn:example:unknown', client_id: server.cliClientId });
    expect(res.status).toBe(400);
    const id = res.headers.get('x-request-id')!;
    expect(linesOf(id).find((l) => l.msg === 'protocol error answered')).toMatchObject({ error: res.json.error, status: 400, path: '/oauth/token' });
  });

  test('passwords, client secrets and tokens never reach the log', async () => {
    const password = `pw-${randomUUID()}`;
    const username = `user-${randomUUID().slice(0, 8)}`;
    await server.authgate.db.user.create({ data: { username, passwordHash: await hashPassword(password) } });
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login(username, password)).status).toBe(302);
    expect((await new ScriptedBrowser(server.url).login(username, `${password}-wrong`)).status).toBe(401);

    const client = await createClient(server, { type: 'confidential', clientCredentials: true, scopes: 'read' });
    const form = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret!, scope: 'read' });
    expect(form.status).toBe(200);
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const viaHeader = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read' }, { authorization: `Basic ${basic}` });
    expect(viaHeader.status).toBe(200);
    const introspected = await postForm(`${server.url}/oauth/introspect`, { token: form.json.access_token as string }, { authorization: `Basic ${basic}` });
    expect(introspected.status).toBe(200);

    const text = log.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [password, client.clientSecret!, basic, form.json.access_token as string, viaHeader.json.access_token as string]) {
      expect(text).not.toContain(secret);
    }
  });

  test('credential fields are redacted by path wherever they sit in a log line', () => {
    const own = captureLog('debug');
    own.logger.child({ request_id: 'r-1' }).warn('something', {
      password: 'p-top',
      client_secret: 's-top',
      body: { refresh_token: 'rt-nested', code_verifier: 'cv-nested', username: 'kept-user' },
      req: { headers: { authorization: 'Bearer at-header', cookie: 'authgate_session=c-cookie', 'user-agent': 'kept-agent' } },
    });
    const text = own.text();
    for (const secret of ['p-top', 's-top', 'rt-nested', 'cv-nested', 'at-header', 'c-cookie']) expect(text).not.toContain(secret);
    expect(own.lines()[0]).toMatchObject({ level: 'warn', msg: 'something', request_id: 'r-1', password: '[REDACTED]', body: { username: 'kept-user' }, req: { headers: { 'user-agent': 'kept-agent' } } });
  });

  test('LOG_LEVEL silent writes nothing', () => {
    const chunks: string[] = [];
    createLogger('silent', { write: (s: string) => void chunks.push(s) }).error('not written');
    expect(chunks).toEqual([]);
  });
});

describe('an unexpected failure shows its request id', () => {
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog('info');
    server = await startTestServer({}, { logger: log.logger });
  });
  afterAll(() => server.close());

  // A table the request needs is gone (as if the database broke underneath): a real 500, then restored.
  async function withoutTable<T>(table: string, run: () => Promise<T>): Promise<T> {
    await server.authgate.db.$executeRawUnsafe(`ALTER TABLE "${table}" RENAME TO "${table}_gone"`);
    try {
      return await run();
    } finally {
      await server.authgate.db.$executeRawUnsafe(`ALTER TABLE "${table}_gone" RENAME TO "${table}"`);
    }
  }

  test('on a page: the 500 page and the error line carry the id', async () => {
    const browser = new ScriptedBrowser(server.url);
    const form = await browser.get('/login');
    const page = await withoutTable('users', () => browser.submit(form, '/login', { username: 'admin', password: 'whatever-it-is' }));
    expect(page.status).toBe(500);
    const id = /Request id: <code>([^<]+)<\/code>/.exec(page.html)?.[1];
    expect(id).toMatch(UUID);
    expect(log.lines().find((l) => l.msg === 'unhandled error on page' && l.request_id === id)).toMatchObject({ level: 'error', path: '/login' });
    expect(log.lines().find((l) => l.msg === 'request' && l.request_id === id)).toMatchObject({ status: 500 });
  });

  test('on a protocol endpoint: the server_error answer and the error line carry the id', async () => {
    const res = await withoutTable('oauth_clients', () => postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' }));
    expect(res.status).toBe(500);
    const id = res.headers.get('x-request-id')!;
    expect(res.json).toMatchObject({ error: 'server_error' });
    expect(res.json.error_description).toContain(id);
    expect(log.lines().find((l) => l.msg === 'unhandled error on protocol endpoint' && l.request_id === id)).toMatchObject({ level: 'error' });
  });
});
