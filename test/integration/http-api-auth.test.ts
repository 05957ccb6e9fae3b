// Sign-in through an HTTP API user service (AUTH_MODE=http_api, issue 12), against a real user service
// started here (node:http) that checks requests the way AuthGate's user services do (go-httpclient's
// verifier): the HMAC-SHA256 signature over timestamp + method + path?query + body, a 5-minute timestamp
// window, and, stricter than that, no nonce twice. Everything goes through the login page over HTTP.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { signRequest } from '../../src/identity/http-api.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser, type Page } from '../helpers/browser.js';
import { codes, gql, signedInBrowser } from '../helpers/graphql.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../helpers/tls.js';
import { ChangeMyPasswordDocument, ResetUserPasswordDocument } from '../graphql/generated/graphql.js';

const SECRET = 'shared-secret-between-services-0123456789';
const WINDOW_SECONDS = 300;
const TIMEOUT_MS = 1500;

interface Person {
  password: string;
  id: string;
  email?: string;
  full_name?: string;
}

/** What the service does with the next request, whatever it says. */
type Step = { status: number; body: string } | 'hang';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  /** Why the service refused the request's authentication, or null when it passed. */
  refused: string | null;
  answered: number | 'hung';
}

/** The user service: people, how it authenticates callers, a script of special answers, and what it received. */
class UserServiceStub {
  readonly people = new Map<string, Person>();
  readonly received: Received[] = [];
  readonly plan: Step[] = [];
  auth: { mode: 'hmac' | 'simple'; secret: string; header?: string } = { mode: 'hmac', secret: SECRET };
  private readonly seenNonces = new Set<string>();
  private readonly hung = new Set<ServerResponse>();
  private server!: Server;
  url = '';

  async start(tls?: TestCertificate): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    this.server = tls ? createHttpsServer({ cert: tls.cert, key: readFileSync(tls.keyFile) }, handler) : createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Requests received since `from`, for the username in their body. */
  for(username: string, from = 0): Received[] {
    return this.received.slice(from).filter((r) => JSON.parse(r.body).username === username);
  }

  /** go-httpclient's check (timestamp window, signature over timestamp+method+path+body) plus refusing a nonce seen before. */
  verify(method: string, path: string, headers: IncomingMessage['headers'], body: string): string | null {
    if (this.auth.mode === 'simple') {
      const given = Buffer.from(String(headers[(this.auth.header ?? 'x-api-secret').toLowerCase()] ?? ''));
      const expected = Buffer.from(this.auth.secret);
      return given.length === expected.length && timingSafeEqual(given, expected) ? null : 'bad secret';
    }
    const signature = String(headers['x-signature'] ?? '');
    const timestamp = String(headers['x-timestamp'] ?? '');
    const nonce = String(headers['x-nonce'] ?? '');
    if (!signature || !/^\d+$/.test(timestamp) || !nonce) return 'missing authentication headers';
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > WINDOW_SECONDS) return 'timestamp outside the window';
    const expected = createHmac('sha256', this.auth.secret).update(`${timestamp}${method}${path}${body}`).digest('hex');
    if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) return 'signature verification failed';
    if (this.seenNonces.has(nonce)) return 'nonce replayed';
    this.seenNonces.add(nonce);
    return null;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = decodeURIComponent(req.url!.split('?')[0]!) + (req.url!.includes('?') ? `?${req.url!.split('?').slice(1).join('?')}` : '');
    const refused = this.verify(req.method!, path, req.headers, body);
    const record: Received = { path, headers: req.headers, body, refused, answered: 0 };
    this.received.push(record);
    const step = this.plan.shift();
    if (step === 'hang') {
      record.answered = 'hung';
      this.hung.add(res);
      return;
    }
    const reply = (status: number, text: string) => {
      record.answered = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    if (step) return reply(step.status, step.body);
    if (refused) return reply(401, JSON.stringify({ success: false, message: refused }));
    const { username, password } = JSON.parse(body) as { username: string; password: string };
    const person = this.people.get(username);
    if (!person || person.password !== password) return reply(200, JSON.stringify({ success: false, message: 'invalid credentials' }));
    reply(200, JSON.stringify({ success: true, user_id: person.id, email: person.email, full_name: person.full_name }));
  }
}

/** A login through the page, timed. */
async function login(server: TestServer, username: string, password: string): Promise<Page & { ms: number; error?: string }> {
  const browser = new ScriptedBrowser(server.url);
  const form = await browser.get('/login');
  const started = Date.now();
  const page = await browser.submit(form, '/login', { username, password });
  const error = /<p class="error" role="alert">([^<]*)<\/p>/.exec(page.html)?.[1]?.replace(/&#39;/g, "'");
  return { ...page, ms: Date.now() - started, error };
}

async function audit(server: TestServer, where: { eventType?: string; actorUsername?: string }) {
  await server.authgate.services.audit.flush();
  const rows = await server.authgate.db.auditEvent.findMany({ where, orderBy: { createdAt: 'asc' } });
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

describe('AUTH_MODE=http_api with an HMAC-signed user service', () => {
  const service = new UserServiceStub();
  let server: TestServer;
  let log: CapturedLog;
  const db = () => server.authgate.db;

  beforeAll(async () => {
    await service.start();
    log = captureLog('info');
    server = await startTestServer(
      {
        AUTH_MODE: 'http_api',
        METRICS_ENABLED: 'true', // the outcome counter is read below
        // A query string: signed as part of the path, as AuthGate does.
        HTTP_API_URL: `${service.url}/api/verify?tenant=acme`,
        HTTP_API_AUTH_MODE: 'hmac',
        HTTP_API_AUTH_SECRET: SECRET,
        HTTP_API_TIMEOUT: `${TIMEOUT_MS}ms`,
        HTTP_API_RETRY_DELAY: '100ms',
        HTTP_API_MAX_RETRY_DELAY: '400ms',
      },
      { logger: log.logger },
    );
    service.people.set('alice', { password: 'alice-upstream-pw', id: 'ext-1001', email: 'alice@corp.example', full_name: 'Alice Upstream' });
    service.people.set('erin', { password: 'erin-upstream-pw', id: 'ext-1005', email: 'erin@corp.example', full_name: 'Erin' });
    // One person per bad-input case: each failure counts against that account's guessing limit.
    for (const [i, name] of ['frank', 'fay', 'fia', 'flo', 'fox', 'fred'].entries()) service.people.set(name, { password: `${name}-upstream-pw`, id: `ext-11${i}` });
    service.people.set('dave', { password: 'dave-upstream-pw', id: 'ext-1004' });
    // Also at the service, but a local account here: local wins.
    service.people.set('carol', { password: 'carol-upstream-pw', id: 'ext-1003' });
    service.people.set('admin', { password: 'admin-at-the-service', id: 'ext-1000' });
  }, 30_000);
  afterAll(async () => {
    await server.close();
    await service.close();
  });
  beforeEach(() => {
    service.plan.length = 0;
    service.auth = { mode: 'hmac', secret: SECRET };
  });

  test('a first sign-in creates the account once (http_api, the external id recorded); the second reuses it', async () => {
    const from = service.received.length;
    const first = await login(server, 'alice', 'alice-upstream-pw');
    expect([first.status, first.location]).toEqual([302, '/']);
    const user = await db().user.findUniqueOrThrow({ where: { username: 'alice' }, include: { connections: true } });
    expect(user).toMatchObject({ authSource: 'http_api', email: 'alice@corp.example', fullName: 'Alice Upstream', passwordHash: null, active: true, role: 'user' });
    expect(user.connections).toEqual([expect.objectContaining({ provider: 'http_api', providerUserId: 'ext-1001', email: 'alice@corp.example' })]);

    const second = await login(server, 'alice', 'alice-upstream-pw');
    expect(second.status).toBe(302);
    expect(await db().user.count({ where: { username: 'alice' } })).toBe(1);
    expect(await db().oAuthConnection.count({ where: { provider: 'http_api' , providerUserId: 'ext-1001' } })).toBe(1);

    // What went over the wire: two signed POSTs, each accepted by the service, each with its own nonce.
    const sent = service.for('alice', from);
    expect(sent).toHaveLength(2);
    for (const r of sent) {
      expect(r.refused).toBeNull();
      expect(r.path).toBe('/api/verify?tenant=acme');
      expect(r.headers['x-signature']).toMatch(/^[0-9a-f]{64}$/);
      expect(Math.abs(Number(r.headers['x-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(r.headers['content-type']).toBe('application/json');
      expect(JSON.parse(r.body)).toEqual({ username: 'alice', password: 'alice-upstream-pw' });
    }
    expect(sent[0]!.headers['x-nonce']).not.toBe(sent[1]!.headers['x-nonce']);

    const created = await audit(server, { eventType: 'USER_CREATED', actorUsername: 'alice' });
    expect(created).toHaveLength(1);
    expect(created[0]!.details).toMatchObject({ auth_source: 'http_api', external_id: 'ext-1001', auto_registered: true });
    const successes = await audit(server, { eventType: 'AUTHENTICATION_SUCCESS', actorUsername: 'alice' });
    expect(successes.map((e) => e.details)).toEqual([expect.objectContaining({ auth_source: 'http_api', external_id: 'ext-1001' }), expect.objectContaining({ auth_source: 'http_api' })]);
  });

  test('a wrong password is refused by the service: the login page says so, nothing is created, it is audited', async () => {
    const page = await login(server, 'erin', 'not-erins-password');
    expect(page.status).toBe(401);
    expect(page.error).toBe('Invalid username or password.');
    expect(await db().user.findUnique({ where: { username: 'erin' } })).toBeNull();
    const [failure] = await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'erin' });
    expect(failure!.details).toEqual({ auth_source: 'http_api', reason: 'rejected_by_user_service', status: 200, attempts: 1 });
    expect(JSON.stringify(failure)).not.toContain('not-erins-password');
    // An existing http_api account: the same refusal, the account unchanged.
    await login(server, 'alice', 'alice-upstream-pw');
    expect((await login(server, 'alice', 'wrong-for-alice')).status).toBe(401);
  });

  test('a 503 then a 200: retried with a fresh timestamp and nonce, and the person is signed in', async () => {
    const from = service.received.length;
    const count = async (outcome: string) => (await server.authgate.metrics.httpApiAuthRequests.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    const before = { failed: await count('server_error'), accepted: await count('accepted') };
    service.plan.push({ status: 503, body: '{"error":"restarting"}' });
    const page = await login(server, 'erin', 'erin-upstream-pw');
    // Counted per request, retries included (the registry is per process: read as deltas).
    expect([(await count('server_error')) - before.failed, (await count('accepted')) - before.accepted]).toEqual([1, 1]);
    expect(page.status).toBe(302);
    const sent = service.for('erin', from);
    expect(sent.map((r) => r.answered)).toEqual([503, 200]);
    // Both pass the service's own check; a reused nonce would have been refused as a replay.
    expect(sent.map((r) => r.refused)).toEqual([null, null]);
    expect(new Set(sent.map((r) => r.headers['x-nonce'])).size).toBe(2);
    expect(await db().user.count({ where: { username: 'erin' } })).toBe(1);
    const success = (await audit(server, { eventType: 'AUTHENTICATION_SUCCESS', actorUsername: 'erin' })).at(-1)!;
    expect(success.details).toMatchObject({ auth_source: 'http_api', attempts: 2 });
    expect(log.lines().find((l) => l.msg === 'the sign-in user service failed' && l.status === 503)).toMatchObject({ attempt: 1, failure: 'server_error', will_retry: true });
  });

  test('a user service that never answers: the person gets a clear page within HTTP_API_TIMEOUT, nothing is created, it is audited', async () => {
    service.plan.push('hang', 'hang', 'hang', 'hang');
    const page = await login(server, 'frank', 'frank-upstream-pw');
    expect(page.status).toBe(503);
    expect(page.error).toBe('The sign-in service is not answering right now. Please try again in a minute.');
    expect(page.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(page.ms).toBeLessThan(TIMEOUT_MS + 1000);
    expect(await db().user.findUnique({ where: { username: 'frank' } })).toBeNull();
    const [failure] = await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'frank' });
    expect(failure!.details).toMatchObject({ auth_source: 'http_api', reason: 'user_service_unavailable', failure: 'timeout' });
    expect(failure!.severity).toBe('ERROR');
  }, 15_000);

  test('a service that keeps answering 500: retried MAX_RETRIES times with backoff, then a clear page within the timeout', async () => {
    const from = service.received.length;
    service.plan.push(...Array.from({ length: 6 }, () => ({ status: 500, body: 'oops' })));
    const page = await login(server, 'fay', 'fay-upstream-pw');
    expect(page.status).toBe(503);
    expect(page.error).toMatch(/sign-in service is not answering/);
    expect(page.ms).toBeLessThan(TIMEOUT_MS + 500);
    // 1 + HTTP_API_MAX_RETRIES (3) attempts; backoff 100, 200, 400 ms fits in the 1.5 s bound.
    expect(service.for('fay', from).map((r) => r.answered)).toEqual([500, 500, 500, 500]);
    expect(await db().user.findUnique({ where: { username: 'fay' } })).toBeNull();
    const failure = (await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'fay' })).at(-1)!;
    expect(failure.details).toMatchObject({ reason: 'user_service_unavailable', failure: 'server_error', status: 500, attempts: 4 });
    // Logged with the status, never with the password.
    const lines = log.lines().filter((l) => l.msg === 'the sign-in user service failed' && l.status === 500);
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(log.text()).not.toContain('fay-upstream-pw');
  });

  test.each([
    ['malformed JSON', 'fia', { status: 200, body: '{"success": tru' }, 'malformed_response'],
    ['success without a user_id', 'flo', { status: 200, body: '{"success": true, "email": "flo@corp.example"}' }, 'malformed_response'],
    ['a redirect', 'fox', { status: 307, body: '' }, 'redirect'],
  ])('%s: a clear page, not retried, nothing created, audited', async (_name, who, step, failure) => {
    const from = service.received.length;
    service.plan.push(step);
    const page = await login(server, who, `${who}-upstream-pw`);
    expect(page.status).toBe(503);
    expect(page.error).toMatch(/sign-in service is not answering/);
    expect(service.for(who, from)).toHaveLength(1);
    expect(await db().user.findUnique({ where: { username: who } })).toBeNull();
    const last = (await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: who })).at(-1)!;
    expect(last.details).toMatchObject({ reason: 'user_service_unavailable', failure, attempts: 1 });
  });

  test('success:false with a 4xx is a refusal, never retried', async () => {
    const from = service.received.length;
    service.plan.push({ status: 403, body: '{"success": false, "message": "account locked upstream"}' });
    const page = await login(server, 'fred', 'fred-upstream-pw');
    expect(page.status).toBe(401);
    expect(service.for('fred', from)).toHaveLength(1);
    expect(await db().user.findUnique({ where: { username: 'fred' } })).toBeNull();
  });

  test("the service's check works: tampered, stale and replayed requests are refused; AuthGate signed with another secret is refused too", async () => {
    const body = JSON.stringify({ username: 'alice', password: 'alice-upstream-pw' });
    const send = async (headers: Record<string, string>, sentBody = body) =>
      (await fetch(`${service.url}/api/verify?tenant=acme`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: sentBody })).json();
    const signed = (over: string, timestamp = String(Math.floor(Date.now() / 1000)), nonce = randomUUID()) => ({
      'X-Signature': signRequest(SECRET, timestamp, 'POST', '/api/verify?tenant=acme', over),
      'X-Timestamp': timestamp,
      'X-Nonce': nonce,
    });
    // Correctly signed by our signer: accepted.
    expect(await send(signed(body))).toMatchObject({ success: true, user_id: 'ext-1001' });
    // The body changed after signing (another password): refused.
    expect(await send(signed(body), JSON.stringify({ username: 'alice', password: 'guess' }))).toEqual({ success: false, message: 'signature verification failed' });
    // One hex digit of the signature changed: refused.
    const good = signed(body);
    const flipped = good['X-Signature'].replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await send({ ...good, 'X-Signature': flipped })).toEqual({ success: false, message: 'signature verification failed' });
    // The path or query not the one signed: refused.
    const other = { ...signed(body), 'X-Signature': signRequest(SECRET, String(Math.floor(Date.now() / 1000)), 'POST', '/api/verify', body) };
    expect(await send(other)).toEqual({ success: false, message: 'signature verification failed' });
    // Outside the window: refused.
    expect(await send(signed(body, String(Math.floor(Date.now() / 1000) - WINDOW_SECONDS - 60)))).toEqual({ success: false, message: 'timestamp outside the window' });
    // The same request twice: the second is a replay.
    const once = signed(body);
    expect(await send(once)).toMatchObject({ success: true });
    expect(await send(once)).toEqual({ success: false, message: 'nonce replayed' });

    // AuthGate signing with a secret the service does not hold: the service refuses (401), the person
    // gets the plain refusal, and the operator sees the status in the log.
    service.auth = { mode: 'hmac', secret: 'a-different-secret-entirely-0000000000' };
    const from = service.received.length;
    const page = await login(server, 'alice', 'alice-upstream-pw');
    expect(page.status).toBe(401);
    expect(service.for('alice', from).map((r) => [r.refused, r.answered])).toEqual([['signature verification failed', 401]]);
    const last = (await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'alice' })).at(-1)!;
    expect(last.details).toMatchObject({ reason: 'rejected_by_user_service', status: 401 });
  });

  test('the seeded admin and local accounts sign in locally, the service never asked; an http_api account never uses a local password', async () => {
    const from = service.received.length;
    expect((await login(server, 'admin', ADMIN_PASSWORD)).status).toBe(302);
    expect((await login(server, 'admin', 'admin-at-the-service')).status).toBe(401);
    await db().user.create({ data: { username: 'carol', passwordHash: await hashPassword('carol-local-password') } });
    expect((await login(server, 'carol', 'carol-local-password')).status).toBe(302);
    expect((await login(server, 'carol', 'carol-upstream-pw')).status).toBe(401);
    expect(service.for('admin', from)).toEqual([]);
    expect(service.for('carol', from)).toEqual([]);
    const successes = await audit(server, { eventType: 'AUTHENTICATION_SUCCESS', actorUsername: 'admin' });
    expect(successes.at(-1)!.details).toEqual({ auth_source: 'local' });

    // An http_api account that somehow holds a local hash: only the service decides.
    await db().user.update({ where: { username: 'alice' }, data: { passwordHash: await hashPassword('a-local-password') } });
    const page = await login(server, 'alice', 'a-local-password');
    expect(page.status).toBe(401);
    expect(service.for('alice', from)).toHaveLength(1);
    await db().user.update({ where: { username: 'alice' }, data: { passwordHash: null } });
  });

  test('an http_api account cannot change its password here, nor can an admin reset it', async () => {
    const alice = await signedInBrowser(server, 'alice', 'alice-upstream-pw');
    const page = await alice.get('/account/password');
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('action="/account/password"');
    const change = await gql(server, ChangeMyPasswordDocument, { input: { currentPassword: 'alice-upstream-pw', newPassword: 'a-brand-new-one-1' } }, { browser: alice, headers: { origin: server.url } });
    expect(codes(change)).toEqual(['BAD_USER_INPUT']);
    expect(change.errors![0]!.message).toMatch(/signs in elsewhere \(through your organisation's sign-in service/);
    const admin = await signedInBrowser(server);
    const id = (await db().user.findUniqueOrThrow({ where: { username: 'alice' } })).id;
    const reset = await gql(server, ResetUserPasswordDocument, { id: Buffer.from(`User:${id}`).toString('base64') }, { browser: admin, headers: { origin: server.url } });
    expect(codes(reset)).toEqual(['BAD_USER_INPUT']);
    expect(reset.errors![0]!.message).toContain('This user signs in through "http_api"; their password is not kept here.');
    expect((await db().user.findUniqueOrThrow({ where: { id } })).passwordHash).toBeNull();
  });

  test('the guessing limit applies: counted before the check, the service is not even asked once locked out', async () => {
    const from = service.received.length;
    for (let i = 0; i < 5; i++) expect((await login(server, 'dave', `wrong-${i}`)).status).toBe(401);
    const locked = await login(server, 'dave', 'dave-upstream-pw');
    expect(locked.status).toBe(429);
    expect(locked.error).toMatch(/Too many failed attempts/);
    expect(service.for('dave', from)).toHaveLength(5);
    expect(await db().user.findUnique({ where: { username: 'dave' } })).toBeNull();
    expect(await audit(server, { eventType: 'LOGIN_LOCKED_OUT', actorUsername: 'dave' })).toHaveLength(1);
  });

  test('the e-mail of an existing account is never linked: the person is told, nothing is created', async () => {
    await db().user.create({ data: { username: 'gina-local', email: 'gina@corp.example', passwordHash: await hashPassword('gina-local-password') } });
    service.people.set('gina', { password: 'gina-upstream-pw', id: 'ext-1007', email: 'gina@corp.example' });
    const page = await login(server, 'gina', 'gina-upstream-pw');
    expect(page.status).toBe(403);
    expect(page.error).toMatch(/An account with your e-mail address already exists here/);
    expect(await db().user.findUnique({ where: { username: 'gina' } })).toBeNull();
    expect(await db().oAuthConnection.count({ where: { providerUserId: 'ext-1007' } })).toBe(0);
    const [failure] = await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'gina' });
    expect(failure!.details).toMatchObject({ reason: 'email_conflict' });
  });

  test('racing first sign-ins of one person create exactly one account (5 rounds)', async () => {
    // 4 at once: within the per-account guessing limit (5), so every one is evaluated.
    for (let round = 0; round < 5; round++) {
      const name = `hugo${round}`;
      service.people.set(name, { password: 'hugo-upstream-pw', id: `ext-18${round}`, email: `${name}@corp.example` });
      const pages = await Promise.all(Array.from({ length: 4 }, () => login(server, name, 'hugo-upstream-pw')));
      expect(pages.map((p) => p.status)).toEqual([302, 302, 302, 302]);
      expect(await db().user.count({ where: { username: name } })).toBe(1);
      expect(await db().oAuthConnection.count({ where: { providerUserId: `ext-18${round}` } })).toBe(1);
      expect(await audit(server, { eventType: 'USER_CREATED', actorUsername: name })).toHaveLength(1);
      expect(await audit(server, { eventType: 'AUTHENTICATION_SUCCESS', actorUsername: name })).toHaveLength(4);
    }
  });

  test('later sign-ins keep the name and e-mail in step with the service; a disabled account is not even asked about', async () => {
    service.people.set('nina', { password: 'nina-upstream-pw', id: 'ext-1010', email: 'nina@corp.example', full_name: 'Nina' });
    expect((await login(server, 'nina', 'nina-upstream-pw')).status).toBe(302);
    service.people.set('nina', { password: 'nina-upstream-pw', id: 'ext-1010', email: 'nina.new@corp.example', full_name: 'Nina Renamed' });
    expect((await login(server, 'nina', 'nina-upstream-pw')).status).toBe(302);
    expect(await db().user.findUniqueOrThrow({ where: { username: 'nina' } })).toMatchObject({ email: 'nina.new@corp.example', fullName: 'Nina Renamed' });

    await db().user.update({ where: { username: 'nina' }, data: { active: false } });
    const from = service.received.length;
    expect((await login(server, 'nina', 'nina-upstream-pw')).status).toBe(401);
    expect(service.for('nina', from)).toEqual([]);
    const last = (await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'nina' })).at(-1)!;
    expect(last.details).toEqual({ auth_source: 'http_api', reason: 'user_disabled' });
  });

  test('the username now belongs to someone else at the service: refused, the account is not handed over', async () => {
    service.people.set('ivan', { password: 'ivan-upstream-pw', id: 'ext-1009' });
    expect((await login(server, 'ivan', 'ivan-upstream-pw')).status).toBe(302);
    service.people.set('ivan', { password: 'new-ivan-pw', id: 'ext-2009' });
    const page = await login(server, 'ivan', 'new-ivan-pw');
    expect(page.status).toBe(403);
    expect(page.error).toMatch(/belongs to a different person/);
    const last = (await audit(server, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'ivan' })).at(-1)!;
    expect(last).toMatchObject({ severity: 'CRITICAL', details: expect.objectContaining({ reason: 'external_id_mismatch', external_id: 'ext-2009' }) });
  });
});

describe('HTTP_API_AUTH_MODE=simple', () => {
  const service = new UserServiceStub();
  let server: TestServer;

  beforeAll(async () => {
    await service.start();
    service.auth = { mode: 'simple', secret: 'simple-shared-secret-value', header: 'X-Custom-Key' };
    service.people.set('jo', { password: 'jo-upstream-pw', id: '42', full_name: 'Jo' });
    server = await startTestServer({
      AUTH_MODE: 'http_api',
      HTTP_API_URL: `${service.url}/verify`,
      HTTP_API_AUTH_MODE: 'simple',
      HTTP_API_AUTH_SECRET: 'simple-shared-secret-value',
      HTTP_API_AUTH_HEADER: 'X-Custom-Key',
    });
  }, 30_000);
  afterAll(async () => {
    await server.close();
    await service.close();
  });

  test('the secret travels in the configured header, nothing else is added; the account is created', async () => {
    expect((await login(server, 'jo', 'jo-upstream-pw')).status).toBe(302);
    const [sent] = service.received;
    expect(sent!.refused).toBeNull();
    expect(sent!.headers['x-custom-key']).toBe('simple-shared-secret-value');
    expect(sent!.headers['x-signature']).toBeUndefined();
    expect(sent!.headers['x-api-secret']).toBeUndefined();
    expect(await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'jo' } })).toMatchObject({ authSource: 'http_api', fullName: 'Jo', email: null });
  });
});

describe('AUTH_MODE=local with HTTP_API_URL set', () => {
  const service = new UserServiceStub();
  let server: TestServer;

  beforeAll(async () => {
    await service.start();
    service.people.set('kim', { password: 'kim-upstream-pw', id: 'ext-3001' });
    service.people.set('lou', { password: 'lou-upstream-pw', id: 'ext-3002' });
    server = await startTestServer({ HTTP_API_URL: `${service.url}/verify`, HTTP_API_AUTH_MODE: 'hmac', HTTP_API_AUTH_SECRET: SECRET });
    // An account made through the service earlier (e.g. before switching back to local).
    const kim = await server.authgate.db.user.create({ data: { username: 'kim', authSource: 'http_api' } });
    await server.authgate.db.oAuthConnection.create({ data: { userId: kim.id, provider: 'http_api', providerUserId: 'ext-3001' } });
  }, 30_000);
  afterAll(async () => {
    await server.close();
    await service.close();
  });

  test('existing http_api accounts keep signing in through the service; unknown usernames are not created', async () => {
    expect((await login(server, 'kim', 'kim-upstream-pw')).status).toBe(302);
    expect((await login(server, 'lou', 'lou-upstream-pw')).status).toBe(401);
    expect(service.received.map((r) => JSON.parse(r.body).username)).toEqual(['kim']);
    expect(await server.authgate.db.user.findUnique({ where: { username: 'lou' } })).toBeNull();
  });
});

describe('an https user service with a certificate nobody vouches for', () => {
  const service = new UserServiceStub();
  const servers: TestServer[] = [];

  beforeAll(async () => {
    await service.start(makeSelfSignedCertificate());
    service.people.set('max', { password: 'max-upstream-pw', id: 'ext-4001' });
  }, 30_000);
  afterAll(async () => {
    for (const server of servers) await server.close();
    await service.close();
  });

  test('refused by default (the password is not sent to an unverified host); HTTP_API_INSECURE_SKIP_VERIFY=true (outside production) accepts it', async () => {
    const env = { AUTH_MODE: 'http_api', HTTP_API_URL: `${service.url}/verify`, HTTP_API_AUTH_MODE: 'hmac', HTTP_API_AUTH_SECRET: SECRET, HTTP_API_MAX_RETRIES: '0' };
    const verifying = await startTestServer(env);
    servers.push(verifying);
    const refused = await login(verifying, 'max', 'max-upstream-pw');
    expect(refused.status).toBe(503);
    expect(service.received).toHaveLength(0);
    const [failure] = await audit(verifying, { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'max' });
    expect(failure!.details).toMatchObject({ reason: 'user_service_unavailable', failure: 'network' });

    const skipping = await startTestServer({ ...env, HTTP_API_INSECURE_SKIP_VERIFY: 'true' });
    servers.push(skipping);
    expect((await login(skipping, 'max', 'max-upstream-pw')).status).toBe(302);
    expect(service.received.map((r) => r.refused)).toEqual([null]);
    expect(await skipping.authgate.db.user.findUniqueOrThrow({ where: { username: 'max' } })).toMatchObject({ authSource: 'http_api' });
  }, 30_000);
});
