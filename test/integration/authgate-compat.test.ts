// Requests shaped exactly as AuthGate's Go and Python SDKs (and its CLIs) send them, and the answers
// those SDKs read: revoke with only `token`, a device code without `scope`, polling at exactly the
// interval, tokeninfo and introspection of a machine token, /health's body; and GET /logout.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from '../../src/domain/crypto.js';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { DEVICE_GRANT, json, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

/** Device flow with the CLI client, approved in a browser: a user's access and refresh token. */
async function deviceTokens(server: TestServer, clientId = server.cliClientId): Promise<{ access_token: string; refresh_token: string }> {
  const device = await postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: 'read offline_access' });
  expect(device.status).toBe(200);
  const browser = new ScriptedBrowser(server.url);
  expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
  const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: String(device.json.user_code) });
  await browser.submit(confirm, '/device/verify', { action: 'approve' });
  const res = await postForm(`${server.url}/oauth/token`, { client_id: clientId, grant_type: DEVICE_GRANT, device_code: String(device.json.device_code) });
  expect(res.status).toBe(200);
  return res.json as { access_token: string; refresh_token: string };
}

describe('AuthGate SDK compatibility', () => {
  let server: TestServer;
  // A resource server (confidential client) that introspects.
  let rs: { clientId: string; clientSecret?: string };

  beforeAll(async () => {
    server = await startTestServer();
    rs = await createClient(server, { type: 'confidential', authCode: false, scopes: 'read' });
  });
  afterAll(() => server.close());

  const introspect = (token: string) => postForm(`${server.url}/oauth/introspect`, { token }, basic(rs.clientId, rs.clientSecret!));
  const tokeninfo = (token: string) => fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${token}` } });

  describe('POST /oauth/revoke with only `token` (no client authentication)', () => {
    test('an access token: 200, empty body, revoked alone; audited with client_authenticated false', async () => {
      const tokens = await deviceTokens(server);
      const res = await postForm(`${server.url}/oauth/revoke`, { token: tokens.access_token });
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect((await tokeninfo(tokens.access_token)).status).toBe(401);
      expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
      expect((await introspect(tokens.refresh_token)).json.active).toBe(true);

      const row = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.access_token) } });
      await server.authgate.services.audit.flush();
      const event = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'TOKEN_REVOKED', subjectId: row.id } });
      // The token's own client is named; the details say nobody authenticated.
      expect(event).toMatchObject({ success: true, clientId: server.cliClientId });
      expect(JSON.parse(event.details)).toMatchObject({ reason: 'token_holder_request', client_authenticated: false, category: 'access' });
    });

    test('a refresh token (token_type_hint too, as the Python SDK sends it): its whole family is revoked', async () => {
      const tokens = await deviceTokens(server);
      const res = await postForm(`${server.url}/oauth/revoke`, { token: tokens.refresh_token, token_type_hint: 'refresh_token' });
      expect(res.status).toBe(200);
      expect((await introspect(tokens.refresh_token)).json).toEqual({ active: false });
      expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
      const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: server.cliClientId });
      expect(refresh.json.error).toBe('invalid_grant');
    });

    test('a JSON body with only the token works the same, so does one with a Bearer header; unknown tokens get the same 200', async () => {
      const tokens = await deviceTokens(server);
      const res = await fetch(`${server.url}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens.access_token }) });
      expect(res.status).toBe(200);
      expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
      // A Bearer header (some clients send the access token they are giving up) is not client authentication.
      const bearer = await deviceTokens(server);
      const withBearer = await postForm(`${server.url}/oauth/revoke`, { token: bearer.access_token }, { authorization: `Bearer ${bearer.access_token}` });
      expect(withBearer.status).toBe(200);
      expect((await introspect(bearer.access_token)).json).toEqual({ active: false });
      const unknown = await postForm(`${server.url}/oauth/revoke`, { token: 'no-such-token' });
      expect(unknown.status).toBe(200);
      expect(unknown.text).toBe('');
    });

    test('a client that does authenticate revokes only its own tokens (others: the same 200, nothing revoked); audited as authenticated', async () => {
      const tokens = await deviceTokens(server);
      const other = await postForm(`${server.url}/oauth/revoke`, { token: tokens.access_token }, basic(rs.clientId, rs.clientSecret!));
      expect(other.status).toBe(200);
      expect((await introspect(tokens.access_token)).json.active).toBe(true);

      const own = await postForm(`${server.url}/oauth/revoke`, { token: tokens.access_token, client_id: server.cliClientId });
      expect(own.status).toBe(200);
      expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
      const row = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.access_token) } });
      await server.authgate.services.audit.flush();
      const refused = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'TOKEN_REVOCATION_REFUSED', subjectId: row.id } });
      expect(JSON.parse(refused.details)).toMatchObject({ reason: 'token_belongs_to_another_client', client_authenticated: true });
      const revoked = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'TOKEN_REVOKED', subjectId: row.id } });
      expect(JSON.parse(revoked.details)).toMatchObject({ reason: 'client_request', client_authenticated: true });
    });

    test('credentials that are sent must be right: a wrong secret is still 401 invalid_client and revokes nothing', async () => {
      const tokens = await deviceTokens(server);
      const wrong = await postForm(`${server.url}/oauth/revoke`, { token: tokens.access_token }, basic(rs.clientId, 'not-the-secret'));
      expect(wrong.status).toBe(401);
      expect(wrong.json.error).toBe('invalid_client');
      const secretOnly = await postForm(`${server.url}/oauth/revoke`, { token: tokens.access_token, client_secret: 'x' });
      expect(secretOnly.status).toBe(401);
      expect((await introspect(tokens.access_token)).json.active).toBe(true);
      const missing = await postForm(`${server.url}/oauth/revoke`, {});
      expect(missing.status).toBe(400);
      expect(missing.json.error).toBe('invalid_request');
    });
  });

  describe('POST /oauth/device/code without `scope`', () => {
    test("the CLI client gets AuthGate's default, email profile (within what it allows); the user approves that", async () => {
      const device = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId });
      expect(device.status).toBe(200);
      expect(device.json).toMatchObject({ device_code: expect.any(String), user_code: expect.any(String), interval: 1 });
      const row = await server.authgate.db.deviceCode.findUniqueOrThrow({ where: { deviceCodeHash: sha256Hex(String(device.json.device_code)) } });
      expect(row.scopes).toBe('email profile');

      const browser = new ScriptedBrowser(server.url);
      await browser.login('admin', ADMIN_PASSWORD);
      const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: String(device.json.user_code) });
      await browser.submit(confirm, '/device/verify', { action: 'approve' });
      const tokens = await postForm(`${server.url}/oauth/token`, { client_id: server.cliClientId, grant_type: DEVICE_GRANT, device_code: String(device.json.device_code) });
      expect(tokens.status).toBe(200);
      expect(tokens.json.scope).toBe('email profile');
      await server.authgate.services.audit.flush();
      const event = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'DEVICE_CODE_GENERATED', subjectId: row.id } });
      expect(JSON.parse(event.details)).toMatchObject({ scope: 'email profile', scope_defaulted: true });
    });

    test('narrowed to what the client allows; a client allowed none of the default gets all it is allowed; one allowed nothing gets an empty scope — never an error', async () => {
      const some = await createClient(server, { device: true, scopes: 'profile read' });
      const none = await createClient(server, { device: true, scopes: 'read write' });
      const empty = await createClient(server, { device: true, scopes: '' });
      const scopesOf = async (clientId: string) => {
        const res = await postForm(`${server.url}/oauth/device/code`, { client_id: clientId });
        expect(res.status).toBe(200);
        return (await server.authgate.db.deviceCode.findUniqueOrThrow({ where: { deviceCodeHash: sha256Hex(String(res.json.device_code)) } })).scopes;
      };
      expect(await scopesOf(some.clientId)).toBe('profile');
      expect(await scopesOf(none.clientId)).toBe('read write');
      expect(await scopesOf(empty.clientId)).toBe('');
      // An explicit scope is still checked as before.
      const outside = await postForm(`${server.url}/oauth/device/code`, { client_id: some.clientId, scope: 'admin' });
      expect(outside.status).toBe(400);
      expect(outside.json.error).toBe('invalid_scope');
    });
  });

  describe('client_credentials tokens', () => {
    test('sub is client:<client_id>; tokeninfo and introspection report user_id client:<client_id> and subject_type client', async () => {
      const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read write' });
      const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, basic(svc.clientId, svc.clientSecret!));
      expect(issued.status).toBe(200);
      const token = String(issued.json.access_token);
      const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      expect(payload).toMatchObject({ sub: `client:${svc.clientId}`, client_id: svc.clientId });

      const info = await tokeninfo(token);
      expect(info.status).toBe(200);
      expect(await json(info)).toMatchObject({
        active: true,
        user_id: `client:${svc.clientId}`,
        client_id: svc.clientId,
        subject_type: 'client',
        sub: `client:${svc.clientId}`,
        scope: 'read write',
      });
      const intro = await introspect(token);
      expect(intro.json).toMatchObject({
        active: true,
        user_id: `client:${svc.clientId}`,
        subject_type: 'client',
        sub: `client:${svc.clientId}`,
        client_id: svc.clientId,
        token_type: 'Bearer',
      });
      expect(intro.json.username).toBeUndefined();
    });

    test("a user's token: user_id is the user's id, subject_type user", async () => {
      const tokens = await deviceTokens(server);
      const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
      expect(await json(await tokeninfo(tokens.access_token))).toMatchObject({ user_id: admin.id, subject_type: 'user', sub: admin.id, username: 'admin' });
      expect((await introspect(tokens.access_token)).json).toMatchObject({ user_id: admin.id, subject_type: 'user', sub: admin.id });
      expect((await introspect(tokens.refresh_token)).json).toMatchObject({ user_id: admin.id, subject_type: 'user', sub: admin.id, token_type: 'refresh_token' });
    });

    test('userinfo refuses a machine token clearly: 403 insufficient_scope naming client_credentials', async () => {
      const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
      const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, basic(svc.clientId, svc.clientSecret!));
      const res = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${String(issued.json.access_token)}` } });
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="openid"');
      const body = await json(res);
      expect(body.error).toBe('insufficient_scope');
      expect(body.error_description).toMatch(/client_credentials token/);
    });
  });

  test("GET /health: AuthGate's body (status, database, timestamp), 200", async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({ status: 'healthy', database: 'connected', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(Math.abs(Date.parse(body.timestamp as string) - Date.now())).toBeLessThan(60_000);
  });

  test('GET /logout only shows the confirmation page: the session survives; POST (with CSRF) signs out', async () => {
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
    const confirm = await browser.get('/logout');
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('<form method="post" action="/logout">');
    // Still signed in after the GET (e.g. a link prefetch or an <img src="/logout">).
    expect((await browser.get('/device')).status).toBe(200);
    const out = await browser.submit(confirm, '/logout', {});
    expect(out.status).toBe(302);
    const after = await browser.get('/device');
    expect(after.status).toBe(302);
    expect(after.location).toMatch(/^\/login/);
  });
});

describe('device polling at the interval, with jitter (DEVICE_CODE_POLLING_INTERVAL=5s)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ DEVICE_CODE_POLLING_INTERVAL: '5s' });
  });
  afterAll(() => server.close());

  /** A device code and a poll function; `sinceLast` places the previous poll that many ms in the past. */
  async function pending() {
    const device = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId });
    const deviceCode = String(device.json.device_code);
    const poll = () => postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: server.cliClientId });
    const previousPollAgo = (ms: number) => server.authgate.services.deviceCodes.setLastPoll(deviceCode, new Date(Date.now() - ms));
    return { poll, previousPollAgo };
  }

  test('polls arriving at 1.0×, 0.9× and 0.8× the interval are on time (authorization_pending); at 0.5× slow_down', async () => {
    const { poll, previousPollAgo } = await pending();
    expect((await poll()).json.error).toBe('authorization_pending');
    await previousPollAgo(5000);
    expect((await poll()).json.error).toBe('authorization_pending');
    // The previous poll was delayed on the way in, this one was not: it arrives 0.5 s "early".
    await previousPollAgo(4500);
    expect((await poll()).json.error).toBe('authorization_pending');
    await previousPollAgo(4050);
    expect((await poll()).json.error).toBe('authorization_pending');
    await previousPollAgo(2500);
    const slow = await poll();
    expect(slow.status).toBe(400);
    expect(slow.json).toMatchObject({ error: 'slow_down', interval: 10 });
  });

  test('an immediate second poll is still slow_down', async () => {
    const { poll } = await pending();
    expect((await poll()).json.error).toBe('authorization_pending');
    expect((await poll()).json).toMatchObject({ error: 'slow_down', interval: 10 });
  });
});

describe('configuration of the compatibility defaults', () => {
  let base: Record<string, string>;
  beforeAll(() => {
    base = { DATA_DIR: mkdtempSync(join(tmpdir(), 'authgate-compat-config-')) };
  });

  test('defaults: email profile, 20% polling tolerance', () => {
    expect(loadConfig(base).deviceFlow).toEqual({ defaultScopes: ['email', 'profile'], pollTolerance: 0.2 });
  });

  test('DEVICE_CODE_DEFAULT_SCOPE and DEVICE_CODE_POLLING_TOLERANCE (fraction or percent)', () => {
    expect(loadConfig({ ...base, DEVICE_CODE_DEFAULT_SCOPE: 'openid read', DEVICE_CODE_POLLING_TOLERANCE: '0.1' }).deviceFlow).toEqual({
      defaultScopes: ['openid', 'read'],
      pollTolerance: 0.1,
    });
    expect(loadConfig({ ...base, DEVICE_CODE_POLLING_TOLERANCE: '25%' }).deviceFlow.pollTolerance).toBe(0.25);
    expect(loadConfig({ ...base, DEVICE_CODE_POLLING_TOLERANCE: '0' }).deviceFlow.pollTolerance).toBe(0);
    expect(loadConfig({ ...base, DEVICE_CODE_DEFAULT_SCOPE: '' }).deviceFlow.defaultScopes).toEqual([]);
  });

  test('bad values stop startup, naming the variable', () => {
    for (const value of ['0.6', '-1', 'soon', '60%']) {
      expect(() => loadConfig({ ...base, DEVICE_CODE_POLLING_TOLERANCE: value })).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, DEVICE_CODE_POLLING_TOLERANCE: value })).toThrow(/DEVICE_CODE_POLLING_TOLERANCE/);
    }
    expect(() => loadConfig({ ...base, DEVICE_CODE_DEFAULT_SCOPE: 'email "profile"' })).toThrow(/DEVICE_CODE_DEFAULT_SCOPE/);
  });
});
