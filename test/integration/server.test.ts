// Discovery, JWKS, health, security headers, first-run seeding, restarts and graceful shutdown.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Koa from 'koa';
import { createAuthGate } from '../../src/app.js';
import { createPrismaClient } from '../../src/db/client.js';
import { healthEndpoint } from '../../src/ops/health.js';
import { createLogger } from '../../src/ops/logger.js';
import { json } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, freePort, startTestServer, type TestServer } from '../helpers/server.js';

describe('discovery, keys and system endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test.each(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server'])('%s describes what is implemented', async (path) => {
    const res = await fetch(`${server.url}${path}`);
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(doc).toMatchObject({
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      device_authorization_endpoint: `${server.url}/oauth/device/code`,
      jwks_uri: `${server.url}/.well-known/jwks.json`,
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    });
    expect(doc.grant_types_supported.sort()).toEqual(['authorization_code', 'client_credentials', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']);
    expect(doc).toMatchObject({
      authorization_endpoint: `${server.url}/oauth/authorize`,
      userinfo_endpoint: `${server.url}/oauth/userinfo`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    // Off by default, so not advertised.
    expect(doc.registration_endpoint).toBeUndefined();
  });

  test('JWKS is empty for HS256 and cacheable', async () => {
    const res = await fetch(`${server.url}/.well-known/jwks.json`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await json(res)).toEqual({ keys: [] });
  });

  test('health answers 200 with the database check', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'healthy', database: 'connected', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
  });

  test('health answers 503 when the database is unreachable', async () => {
    // A real client pointed at a port where no database listens.
    const deadDb = createPrismaClient({ dialect: 'postgresql', url: `postgresql://authgate@127.0.0.1:${await freePort()}/none?connect_timeout=2` });
    const app = new Koa().use(healthEndpoint(deadDb));
    const srv = app.listen(0, '127.0.0.1');
    await new Promise((r) => srv.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(srv.address() as { port: number }).port}/health`);
      expect(res.status).toBe(503);
      expect(await json(res)).toEqual({ status: 'unhealthy', database: 'disconnected', timestamp: expect.any(String) });
    } finally {
      srv.close();
      await deadDb.$disconnect();
    }
  });

  test('pages carry security headers; the session cookie is HttpOnly, SameSite=Lax and opaque', async () => {
    const res = await fetch(`${server.url}/login`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const cookies = res.headers.getSetCookie().filter((c) => c.startsWith('authgate_session='));
    expect(cookies[0]).toMatch(/httponly/i);
    expect(cookies[0]).toMatch(/samesite=lax/i);
    expect(cookies[0]).not.toMatch(/secure/i); // BASE_URL is http here
    const value = cookies[0]!.split(';')[0]!.split('=')[1]!;
    expect(() => JSON.parse(Buffer.from(value, 'base64').toString())).toThrow();
    // The database keeps the session under a hash of the id, never the id.
    const rows = await server.authgate.db.session.findMany();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.id === value)).toBe(false);
  });

  test('pages get the document headers; the protocol face’s JSON answers get the API set, errors and unknown paths too', async () => {
    const page = await fetch(`${server.url}/login`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const answers = [
      await fetch(`${server.url}/.well-known/openid-configuration`),
      await fetch(`${server.url}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }),
      await fetch(`${server.url}/oauth/no-such-endpoint`),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404]);
    for (const res of answers) {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      // What governs a document's loads, links and windows: nothing in a JSON body.
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
      expect(res.headers.get('referrer-policy')).toBeNull();
      expect(res.headers.get('strict-transport-security')).toBeNull(); // BASE_URL is http here
    }
  });

  test('first run wrote the credentials file (0600) and the audit log records events without secrets', async () => {
    const file = join(server.dataDir, 'authgate-credentials.txt');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain(`admin_password: ${ADMIN_PASSWORD}`);
    expect(text).toContain(`client_id: ${server.cliClientId}`);

    const res = await fetch(`${server.url}/oauth/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: server.cliClientId, scope: 'read' }),
    });
    const { device_code } = await json(res);
    await server.authgate.services.audit.flush();
    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'DEVICE_CODE_GENERATED' } });
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.ipAddress).toBeTruthy();
    expect(JSON.stringify(events)).not.toContain(device_code);
  });
});

describe('restarts and shutdown', () => {
  test('a second start on the same data migrates nothing and reseeds nothing; shutdown flushes the audit buffer', async () => {
    const server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '1h', AUDIT_BATCH_SIZE: '1000' });
    const credentials = readFileSync(join(server.dataDir, 'authgate-credentials.txt'), 'utf8');
    const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    server.authgate.services.audit.record({ eventType: 'TEST_EVENT', details: { password: 'hunter2', note: 'kept' } });
    // Closing the app (not the test database) must write the buffered event.
    await server.authgate.close();

    const again = await createAuthGate(server.config, createLogger('silent'));
    try {
      expect(again.seed.seeded).toBe(false);
      const admin2 = await again.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
      expect(admin2.passwordHash).toBe(admin.passwordHash);
      expect(await again.db.user.count()).toBe(1);
      expect(await again.db.oAuthClient.count()).toBe(1);
      expect(readFileSync(join(server.dataDir, 'authgate-credentials.txt'), 'utf8')).toBe(credentials);
      const event = await again.db.auditEvent.findFirstOrThrow({ where: { eventType: 'TEST_EVENT' } });
      expect(JSON.parse(event.details)).toEqual({ password: '[REDACTED]', note: 'kept' });
    } finally {
      await again.close();
      server.authgate.close = async () => {};
      await server.close();
    }
  });

  test('SERVER_KEEP_ALIVE_TIMEOUT: an idle keep-alive connection is closed by the server after it, not before', async () => {
    const { connect } = await import('node:net');
    const server = await startTestServer({ SERVER_KEEP_ALIVE_TIMEOUT: '2s' });
    try {
      // One request on a raw keep-alive connection, then silence: when does the server hang up?
      const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
      let answer = '';
      const answered = new Promise<void>((resolve) => socket.on('data', (chunk) => ((answer += chunk), answer.includes('"status"') && resolve())));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
      await answered;
      const idleFrom = performance.now();
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/\r\nKeep-Alive: timeout=2\r\n/i);
      const closedAt = await closed;
      expect(closedAt - idleFrom).toBeGreaterThanOrEqual(1900);
      expect(closedAt - idleFrom).toBeLessThan(4000);
    } finally {
      await server.close();
    }
  });

  test('shutdown lets an in-flight request finish', async () => {
    const server = await startTestServer();
    // A request whose body is still arriving when shutdown starts.
    const { request } = await import('node:http');
    const url = new URL(`${server.url}/oauth/device/code`);
    const body = new URLSearchParams({ client_id: server.cliClientId, scope: 'read' }).toString();
    const response = new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        },
      );
      req.on('error', reject);
      req.write(body.slice(0, 5));
      setTimeout(() => req.end(body.slice(5)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.close();
    expect(await response).toBe(200);
    await closed;
  });
});

describe('housekeeping', () => {
  test('removes expired codes, ended sessions and long-expired tokens, and keeps live ones', async () => {
    const { runHousekeeping } = await import('../../src/ops/housekeeping.js');
    const server = await startTestServer();
    try {
      const db = server.authgate.db;
      const client = await db.oAuthClient.findFirstOrThrow();
      const day = 86_400_000;
      const past = (ms: number) => new Date(Date.now() - ms);
      const future = new Date(Date.now() + day);
      const base = { clientId: client.id, scopes: 'read', interval: 5 };
      await db.deviceCode.create({ data: { ...base, deviceCodeHash: 'old', userCode: 'BBBBBBBB', expiresAt: past(2 * 3600_000) } });
      await db.deviceCode.create({ data: { ...base, deviceCodeHash: 'live', userCode: 'CCCCCCCC', expiresAt: future } });
      await db.session.create({ data: { id: 'ended', data: '{}', expiresAt: past(1000), absoluteExpiresAt: future } });
      await db.session.create({ data: { id: 'live', data: '{}', expiresAt: future, absoluteExpiresAt: future } });
      const token = { category: 'access' as const, scopes: 'read', grantType: 'client_credentials', clientId: client.id, familyId: 'f' };
      await db.token.create({ data: { ...token, tokenHash: 'h-old', jti: 'j-old', expiresAt: past(8 * day) } });
      await db.token.create({ data: { ...token, tokenHash: 'h-recent', jti: 'j-recent', expiresAt: past(day) } });
      const removed = await runHousekeeping(db);
      expect(removed).toMatchObject({ deviceCodes: 1, sessions: 1, tokens: 1 });
      expect(await db.deviceCode.findUnique({ where: { deviceCodeHash: 'live' } })).not.toBeNull();
      expect(await db.session.findUnique({ where: { id: 'live' } })).not.toBeNull();
      expect(await db.token.findUnique({ where: { jti: 'j-recent' } })).not.toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('sessions and cookies', () => {
  test('with an https BASE_URL the session cookie is Secure and HSTS is sent, even behind a plain-HTTP proxy hop', async () => {
    const server = await startTestServer({ BASE_URL: 'https://auth.example.com' });
    try {
      const res = await fetch(`http://127.0.0.1:${server.config.port}/login`);
      expect(res.status).toBe(200);
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('authgate_session='));
      expect(cookie).toMatch(/;\s*secure/i);
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    } finally {
      await server.close();
    }
  });

  test('sessions end at the idle timeout and at the absolute age, whichever comes first', async () => {
    const server = await startTestServer({ SESSION_MAX_AGE: '1h', SESSION_IDLE_TIMEOUT: '10m' });
    try {
      const sessions = server.authgate.services.sessions;
      await sessions.set('fresh', { userId: undefined, csrf: 'x' }, {});
      expect(await sessions.get('fresh')).toMatchObject({ csrf: 'x' });
      // Started two hours ago: past the absolute age although it was just used.
      await sessions.set('old', { csrf: 'y', startedAt: Date.now() - 2 * 3600_000 }, {});
      expect(await sessions.get('old')).toBeNull();
      // Idle: last use longer ago than the idle timeout.
      await sessions.set('idle', { csrf: 'z' }, {});
      await server.authgate.db.session.updateMany({ where: { data: { contains: '"z"' } }, data: { expiresAt: new Date(Date.now() - 1000) } });
      expect(await sessions.get('idle')).toBeNull();
      // The idle expiry never reaches past the absolute one.
      await sessions.set('late', { csrf: 'w', startedAt: Date.now() - 55 * 60_000 }, {});
      const row = await server.authgate.db.session.findFirstOrThrow({ where: { data: { contains: '"w"' } } });
      expect(row.expiresAt.getTime()).toBe(row.absoluteExpiresAt.getTime());
    } finally {
      await server.close();
    }
  });
});
