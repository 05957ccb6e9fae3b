// Dynamic Client Registration (RFC 7591) over real HTTP: off by default; with an initial access token
// clients are usable at once; without one they wait for an administrator; bad metadata is refused
// with the RFC 7591 §3.2.2 error codes and nothing is stored.
import { sha256Hex } from '../../src/domain/crypto.js';
import { grants } from '../../src/oauth/grants/index.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'initial-access-token-'.padEnd(48, 'x');

interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: Record<string, any>;
}

async function register(server: TestServer, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function discovery(server: TestServer): Promise<Record<string, unknown>> {
  return (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
const deviceClient = { client_name: 'Registered device app', grant_types: [DEVICE_GRANT], token_endpoint_auth_method: 'none', scope: 'openid profile' };

describe('dynamic client registration: disabled by default', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('the endpoint is not there and discovery does not mention it', async () => {
    const res = await register(server, deviceClient);
    expect(res.status).toBe(404);
    expect(res.json.error).toBe('not_found');
    expect(await discovery(server)).not.toHaveProperty('registration_endpoint');
    expect(await server.authgate.db.oAuthClient.count()).toBe(1);
  });
});

describe('dynamic client registration with an initial access token', () => {
  let server: TestServer;
  const auth = { authorization: `Bearer ${TOKEN}` };
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', DYNAMIC_CLIENT_REGISTRATION_TOKEN: TOKEN });
  });
  afterAll(() => server.close());

  test('discovery advertises the endpoint', async () => {
    expect((await discovery(server)).registration_endpoint).toBe(`${server.url}/oauth/register`);
  });

  test.each([
    ['no token', {}],
    ['a wrong token', { authorization: `Bearer ${TOKEN}y` }],
    ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
    ['Basic instead of Bearer', basic('x', TOKEN)],
  ])('%s is 401 invalid_token and nothing is stored', async (_name, headers) => {
    const before = await server.authgate.db.oAuthClient.count();
    const res = await register(server, deviceClient, headers);
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('invalid_token');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await server.authgate.db.oAuthClient.count()).toBe(before);
  });

  test('a public device client is registered approved and can start the device flow at once', async () => {
    const res = await register(server, deviceClient, auth);
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({
      client_id: expect.any(String),
      client_id_issued_at: expect.any(Number),
      client_name: 'Registered device app',
      redirect_uris: [],
      grant_types: [DEVICE_GRANT],
      response_types: [],
      token_endpoint_auth_method: 'none',
      scope: 'openid profile',
    });
    expect(Math.abs(res.json.client_id_issued_at - Date.now() / 1000)).toBeLessThan(60);
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: res.json.client_id } });
    expect(row).toMatchObject({
      clientType: 'public',
      clientSecretHash: null,
      active: true,
      approvalStatus: 'approved',
      enableDeviceFlow: true,
      enableAuthCodeFlow: false,
      enableClientCredentials: false,
      allowedScopes: 'openid profile',
    });
    const device = await postForm(`${server.url}/oauth/device/code`, { client_id: res.json.client_id, scope: 'openid profile' });
    expect(device.status).toBe(200);
    expect(device.json.device_code).toEqual(expect.any(String));
    // Registration never grants more than it asked for.
    const more = await postForm(`${server.url}/oauth/device/code`, { client_id: res.json.client_id, scope: 'openid email' });
    expect(more.json.error).toBe('invalid_scope');
  });

  test('a confidential client gets a secret that works, stored only as its hash', async () => {
    const res = await register(
      server,
      { client_name: 'Backend job', grant_types: ['client_credentials', DEVICE_GRANT], scope: 'profile email' },
      auth,
    );
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      client_secret: expect.any(String),
      client_secret_expires_at: 0,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', DEVICE_GRANT],
      response_types: [],
      scope: 'profile email',
    });
    const { client_id: id, client_secret: secret } = res.json as { client_id: string; client_secret: string };
    expect(secret.length).toBeGreaterThanOrEqual(43);

    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: id } });
    expect(row).toMatchObject({ clientType: 'confidential', approvalStatus: 'approved', active: true, enableClientCredentials: true, enableDeviceFlow: true });
    expect(row.clientSecretHash).toBe(sha256Hex(secret));
    expect(JSON.stringify(row)).not.toContain(secret);

    const device = await postForm(`${server.url}/oauth/device/code`, { scope: 'profile' }, basic(id, secret));
    expect(device.status).toBe(200);
    const wrong = await postForm(`${server.url}/oauth/device/code`, { scope: 'profile' }, basic(id, `${secret}x`));
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe('invalid_client');

    // The client_credentials grant is its own work; use it for real when it is registered.
    if (grants.some((g) => g.grantType === 'client_credentials')) {
      const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile' }, basic(id, secret));
      expect(token.status).toBe(200);
      expect(token.json.access_token).toEqual(expect.any(String));
    }

    await server.authgate.services.audit.flush();
    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'CLIENT_REGISTERED', clientId: id } });
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details)).toMatchObject({ client_name: 'Backend job', approval_status: 'approved', client_type: 'confidential' });
    const everything = JSON.stringify(await server.authgate.db.auditEvent.findMany());
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(TOKEN);
  });

  test('client_secret_post is accepted as the registered method', async () => {
    const res = await register(server, { grant_types: [DEVICE_GRANT], token_endpoint_auth_method: 'client_secret_post', scope: 'openid' }, auth);
    expect(res.status).toBe(201);
    const device = await postForm(`${server.url}/oauth/device/code`, { client_id: res.json.client_id, client_secret: res.json.client_secret, scope: 'openid' });
    expect(device.status).toBe(200);
  });
});

describe('open dynamic client registration (no initial access token)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', RATE_LIMIT_REGISTRATION: '0' }); // many registrations from one address: the limit has its own test (rate-limit.test.ts)
  });
  afterAll(() => server.close());

  const admin = () => server.authgate.db.user.findFirstOrThrow({ where: { username: 'admin' } });
  const startDevice = (clientId: string) => postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: 'openid' });

  test('the client is created pending and can do nothing until an administrator approves it', async () => {
    const res = await register(server, deviceClient);
    expect(res.status).toBe(201);
    const clientId = res.json.client_id as string;
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId } });
    expect(row.approvalStatus).toBe('pending');

    const refused = await startDevice(clientId);
    expect(refused.status).toBe(401);
    expect(refused.json.error).toBe('invalid_client');

    const approved = await server.authgate.services.registration.approveClient(clientId, await admin(), { ip: '127.0.0.1' });
    expect(approved.approvalStatus).toBe('approved');
    expect((await startDevice(clientId)).status).toBe(200);

    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'CLIENT_APPROVED', clientId } });
    expect(events).toHaveLength(1);
    expect(events[0]!.actorUsername).toBe('admin');
  });

  test('a rejected client stays unusable, and a decision is made only once', async () => {
    const res = await register(server, deviceClient);
    const clientId = res.json.client_id as string;
    const registration = server.authgate.services.registration;
    await registration.rejectClient(clientId, await admin(), {});
    expect((await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId } })).approvalStatus).toBe('rejected');
    expect((await startDevice(clientId)).status).toBe(401);
    await expect(registration.approveClient(clientId, await admin(), {})).rejects.toMatchObject({ name: 'Conflict' });
    expect((await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId } })).approvalStatus).toBe('rejected');
  });

  test('only administrators decide, and only about clients that exist', async () => {
    const res = await register(server, deviceClient);
    const clientId = res.json.client_id as string;
    const registration = server.authgate.services.registration;
    const user = { id: 'not-an-admin', username: 'someone', role: 'user' as const };
    await expect(registration.approveClient(clientId, user, {})).rejects.toMatchObject({ name: 'Forbidden' });
    expect((await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId } })).approvalStatus).toBe('pending');
    await expect(registration.approveClient('no-such-client', await admin(), {})).rejects.toMatchObject({ name: 'NotFound' });
  });

  test('concurrent approve and reject: exactly one wins', async () => {
    const res = await register(server, deviceClient);
    const clientId = res.json.client_id as string;
    const registration = server.authgate.services.registration;
    const results = await Promise.allSettled([registration.approveClient(clientId, await admin(), {}), registration.rejectClient(clientId, await admin(), {})]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  test('defaults: an authorization-code client with only a redirect URI', async () => {
    const res = await register(server, { redirect_uris: ['https://app.example.com/callback'], logo_uri: 'https://app.example.com/logo.png', client_id: 'chosen-by-me' });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      client_name: 'Unnamed client',
      redirect_uris: ['https://app.example.com/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email',
      client_secret: expect.any(String),
    });
    // Unknown metadata is ignored (RFC 7591 §2) and the server assigns the client_id.
    expect(res.json.client_id).not.toBe('chosen-by-me');
    expect(res.json).not.toHaveProperty('logo_uri');
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: res.json.client_id } });
    expect(row).toMatchObject({ enableAuthCodeFlow: true, enableDeviceFlow: false, enableClientCredentials: false, clientType: 'confidential' });
    expect(JSON.parse(row.redirectUris)).toEqual(['https://app.example.com/callback']);
  });

  test('loopback http redirect URIs are accepted for native apps', async () => {
    const uris = ['http://127.0.0.1:8123/cb', 'http://[::1]/cb', 'http://localhost:9000/cb', 'https://example.com/cb?x=1'];
    const res = await register(server, { redirect_uris: uris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], scope: 'openid offline_access' });
    expect(res.status).toBe(201);
    expect(res.json.redirect_uris).toEqual(uris);
    expect(res.json).not.toHaveProperty('client_secret');
    expect(res.json).not.toHaveProperty('client_secret_expires_at');
  });

  const code = (extra: Record<string, unknown>) => ({ redirect_uris: ['https://app.example.com/cb'], ...extra });
  test.each([
    ['an http redirect URI that is not loopback', { redirect_uris: ['http://app.example.com/cb'] }, 'invalid_redirect_uri'],
    ['a redirect URI with a fragment', { redirect_uris: ['https://app.example.com/cb#x'] }, 'invalid_redirect_uri'],
    ['a redirect URI with an empty fragment', { redirect_uris: ['https://app.example.com/cb#'] }, 'invalid_redirect_uri'],
    ['a relative redirect URI', { redirect_uris: ['/cb'] }, 'invalid_redirect_uri'],
    ['a custom-scheme redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'invalid_redirect_uri'],
    ['a redirect URI with credentials', { redirect_uris: ['https://user:pw@app.example.com/cb'] }, 'invalid_redirect_uri'],
    ['a loopback look-alike host', { redirect_uris: ['http://127.0.0.1.example.com/cb'] }, 'invalid_redirect_uri'],
    ['too many redirect URIs', { redirect_uris: Array.from({ length: 11 }, (_, i) => `https://app.example.com/cb${i}`) }, 'invalid_redirect_uri'],
    ['redirect_uris as a string', { redirect_uris: 'https://app.example.com/cb' }, 'invalid_redirect_uri'],
    ['authorization_code without redirect URIs', { grant_types: ['authorization_code'] }, 'invalid_redirect_uri'],
    ['an unknown grant type', code({ grant_types: ['authorization_code', 'password'] }), 'invalid_client_metadata'],
    ['implicit', code({ grant_types: ['implicit'] }), 'invalid_client_metadata'],
    ['empty grant types', { grant_types: [] }, 'invalid_client_metadata'],
    ['refresh_token alone', { grant_types: ['refresh_token'] }, 'invalid_client_metadata'],
    ['the admin scope', code({ scope: 'openid admin' }), 'invalid_client_metadata'],
    ['a scope this server does not offer registered clients', code({ scope: 'read' }), 'invalid_client_metadata'],
    ['a malformed scope', code({ scope: 'openid "x"' }), 'invalid_client_metadata'],
    ['a public client with client_credentials', { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' }, 'invalid_client_metadata'],
    ['an unsupported auth method', code({ token_endpoint_auth_method: 'private_key_jwt' }), 'invalid_client_metadata'],
    ['response type token', code({ response_types: ['code', 'token'] }), 'invalid_client_metadata'],
    ['response type code without authorization_code', { grant_types: [DEVICE_GRANT], response_types: ['code'] }, 'invalid_client_metadata'],
    ['authorization_code without response type code', code({ response_types: [] }), 'invalid_client_metadata'],
    ['a non-string client name', code({ client_name: 42 }), 'invalid_client_metadata'],
    ['a very long client name', code({ client_name: 'x'.repeat(101) }), 'invalid_client_metadata'],
    ['a client name with control characters', code({ client_name: 'Nice\nApp' }), 'invalid_client_metadata'],
    ['grant_types with a non-string', { grant_types: [DEVICE_GRANT, 1] }, 'invalid_client_metadata'],
  ])('%s is refused (%#)', async (_name, body, error) => {
    const before = await server.authgate.db.oAuthClient.count();
    const res = await register(server, body);
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({ error, error_description: expect.any(String) });
    expect(await server.authgate.db.oAuthClient.count()).toBe(before);
  });

  test.each([
    ['a form body', 'application/x-www-form-urlencoded', 'client_name=x', 415],
    ['a text body', 'text/plain', '{}', 415],
    ['malformed JSON', 'application/json', '{"client_name": ', 400],
    ['a JSON array', 'application/json', '[{"client_name": "x"}]', 400],
    ['a JSON string', 'application/json', '"hello"', 400],
  ])('%s is invalid_request', async (_name, type, body, status) => {
    const before = await server.authgate.db.oAuthClient.count();
    const res = await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': type }, body });
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    expect(await server.authgate.db.oAuthClient.count()).toBe(before);
  });

  test('a request without a body is invalid_request; an oversized one is 413', async () => {
    const empty = await fetch(`${server.url}/oauth/register`, { method: 'POST' });
    expect(empty.status).toBe(415);
    expect(((await empty.json()) as { error: string }).error).toBe('invalid_request');
    const huge = await register(server, { ...deviceClient, padding: 'x'.repeat(100_000) });
    expect(huge.status).toBe(413);
    expect(huge.json.error).toBe('invalid_request');
  });

  test('structured JSON values are still refused where a parameter is read as a string', async () => {
    const res = await fetch(`${server.url}/oauth/device/code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: server.cliClientId, scope: ['openid'] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('scope') });
  });
});
