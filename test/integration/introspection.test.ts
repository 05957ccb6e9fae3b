// Token introspection (RFC 7662): who may ask, what an active token reports, and everything that
// makes a token inactive.
import { sha256Hex } from '../../src/domain/crypto.js';
import { generateClientSecret } from '../../src/services/clients.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

interface Tokens {
  access_token: string;
  refresh_token: string;
}

function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

/** Device flow end to end for a public client: device code → a person approves → one poll. */
async function deviceTokens(server: TestServer, opts: { clientId?: string; username?: string; password?: string } = {}): Promise<Tokens> {
  const clientId = opts.clientId ?? server.cliClientId;
  const device = await postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: 'read offline_access' });
  expect(device.status).toBe(200);
  const browser = new ScriptedBrowser(server.url);
  expect((await browser.login(opts.username ?? 'admin', opts.password ?? ADMIN_PASSWORD)).status).toBe(302);
  const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: String(device.json.user_code) });
  await browser.submit(confirm, '/device/verify', { action: 'approve' });
  const res = await postForm(`${server.url}/oauth/token`, { client_id: clientId, grant_type: DEVICE_GRANT, device_code: String(device.json.device_code) });
  expect(res.status).toBe(200);
  return res.json as unknown as Tokens;
}

describe('POST /oauth/introspect', () => {
  let server: TestServer;
  const rs = { clientId: 'resource-server', secret: '' };
  const introspect = (fields: Record<string, string>, headers: Record<string, string> = basic(rs.clientId, rs.secret)) =>
    postForm(`${server.url}/oauth/introspect`, fields, headers);
  const active = async (token: string) => (await introspect({ token })).json.active;

  beforeAll(async () => {
    // These tests change token rows behind the services' back (expiry, status, hash) to reach states no
    // service produces; the token-status cache, invalidated by service writes only, would hide those
    // changes. What the cache answers after real service writes is tested in cache-invalidation.test.ts.
    server = await startTestServer({ TOKEN_CACHE_ENABLED: 'false' });
    const { secret, hash } = generateClientSecret();
    rs.secret = secret;
    await server.authgate.db.oAuthClient.create({ data: { clientId: rs.clientId, name: 'Resource server', clientType: 'confidential', clientSecretHash: hash } });
  });
  afterAll(() => server.close());

  test('an active access token: its claims, Bearer, not cacheable', async () => {
    const tokens = await deviceTokens(server);
    const db = server.authgate.db;
    const row = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.access_token) } });
    const admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    const before = Math.floor(Date.now() / 1000);

    const res = await introspect({ token: tokens.access_token });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.json).toEqual({
      active: true,
      scope: 'read offline_access',
      client_id: server.cliClientId,
      username: 'admin',
      sub: admin.id,
      user_id: admin.id,
      subject_type: 'user',
      aud: server.url,
      iss: server.url,
      exp: Math.floor(row.expiresAt.getTime() / 1000),
      iat: expect.any(Number),
      token_type: 'Bearer',
      jti: row.jti,
    });
    expect(res.json.iat as number).toBeLessThanOrEqual(before + 1);
    expect(res.json.iat as number).toBeGreaterThan(before - 60);

    // client_secret_post works the same; the hint changes nothing, right or wrong.
    const post = await introspect({ token: tokens.access_token, client_id: rs.clientId, client_secret: rs.secret, token_type_hint: 'refresh_token' }, {});
    expect(post.json).toEqual(res.json);
  });

  test('an active refresh token: stored audience (the issuer when none), refresh_token type', async () => {
    const tokens = await deviceTokens(server);
    const row = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.refresh_token) } });
    const res = await introspect({ token: tokens.refresh_token, token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      active: true,
      scope: 'read offline_access',
      client_id: server.cliClientId,
      username: 'admin',
      sub: row.userId,
      user_id: row.userId,
      subject_type: 'user',
      aud: server.url,
      iss: server.url,
      exp: Math.floor(row.expiresAt.getTime() / 1000),
      iat: Math.floor(row.createdAt.getTime() / 1000),
      token_type: 'refresh_token',
      jti: row.jti,
    });
    // A wrong hint still finds it.
    expect((await introspect({ token: tokens.refresh_token, token_type_hint: 'access_token' })).json.active).toBe(true);
  });

  test('unknown, forged and revoked tokens are {"active": false} and nothing more', async () => {
    expect((await introspect({ token: 'no-such-token' })).json).toEqual({ active: false });
    const tokens = await deviceTokens(server);
    const [header, payload] = tokens.access_token.split('.');
    const forged = await introspect({ token: `${header}.${payload}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(200);
    expect(forged.json).toEqual({ active: false });

    // Even a stored record is not enough: the signature is checked too. Point the record at a value
    // with a bad signature, as if someone could write hashes but not sign.
    const row = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.access_token) } });
    const unsigned = `${header}.${payload}.${'B'.repeat(43)}`;
    await server.authgate.db.token.update({ where: { id: row.id }, data: { tokenHash: sha256Hex(unsigned) } });
    expect((await introspect({ token: unsigned })).json).toEqual({ active: false });
    await server.authgate.db.token.update({ where: { id: row.id }, data: { tokenHash: sha256Hex(tokens.access_token) } });
    expect((await introspect({ token: tokens.access_token })).json.active).toBe(true);

    await server.authgate.services.tokens.revokeFamily(row.familyId);
    expect((await introspect({ token: tokens.access_token })).json).toEqual({ active: false });
    expect((await introspect({ token: tokens.refresh_token })).json).toEqual({ active: false });
  });

  test('a disabled token status is inactive', async () => {
    const tokens = await deviceTokens(server);
    await server.authgate.db.token.updateMany({
      where: { tokenHash: { in: [sha256Hex(tokens.access_token), sha256Hex(tokens.refresh_token)] } },
      data: { status: 'disabled' },
    });
    expect((await introspect({ token: tokens.access_token })).json).toEqual({ active: false });
    expect((await introspect({ token: tokens.refresh_token })).json).toEqual({ active: false });
  });

  test('expired tokens are inactive', async () => {
    const tokens = await deviceTokens(server);
    const past = new Date(Date.now() - 60_000);
    for (const t of [tokens.access_token, tokens.refresh_token]) {
      expect(await active(t)).toBe(true);
      await server.authgate.db.token.update({ where: { tokenHash: sha256Hex(t) }, data: { expiresAt: past } });
      expect((await introspect({ token: t })).json).toEqual({ active: false });
    }
  });

  test("a disabled user's tokens are inactive", async () => {
    const db = server.authgate.db;
    await db.user.create({ data: { username: 'frank', passwordHash: await hashPassword('frank-password-1') } });
    const tokens = await deviceTokens(server, { username: 'frank', password: 'frank-password-1' });
    expect(await active(tokens.access_token)).toBe(true);
    expect((await introspect({ token: tokens.access_token })).json.username).toBe('frank');
    const frank = await db.user.update({ where: { username: 'frank' }, data: { active: false } });
    await server.authgate.caches.userChanged(frank.id); // written behind the services' back
    expect((await introspect({ token: tokens.access_token })).json).toEqual({ active: false });
    expect((await introspect({ token: tokens.refresh_token })).json).toEqual({ active: false });
  });

  test("a disabled client's tokens are inactive", async () => {
    const db = server.authgate.db;
    const other = await db.oAuthClient.create({
      data: { clientId: 'soon-disabled', name: 'Soon disabled', clientType: 'public', allowedScopes: 'read offline_access', enableDeviceFlow: true },
    });
    const tokens = await deviceTokens(server, { clientId: other.clientId });
    expect((await introspect({ token: tokens.access_token })).json.client_id).toBe('soon-disabled');
    await db.oAuthClient.update({ where: { id: other.id }, data: { active: false } });
    await server.authgate.caches.clientChanged(other); // written behind the services' back
    expect((await introspect({ token: tokens.access_token })).json).toEqual({ active: false });
    expect((await introspect({ token: tokens.refresh_token })).json).toEqual({ active: false });
  });

  test('public clients are refused with 401 invalid_client: they cannot prove who they are', async () => {
    const tokens = await deviceTokens(server);
    const res = await introspect({ token: tokens.access_token, client_id: server.cliClientId }, {});
    expect(res.status).toBe(401);
    expect(res.json.error).toBe('invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(res.json.active).toBeUndefined();
    await server.authgate.services.audit.flush();
    const event = await server.authgate.db.auditEvent.findFirst({ where: { eventType: 'CLIENT_AUTHENTICATION_FAILURE', clientId: server.cliClientId } });
    expect(event).toMatchObject({ severity: 'WARNING', success: false });
  });

  test('failed authentication and bad requests', async () => {
    const tokens = await deviceTokens(server);
    for (const [fields, headers] of [
      [{ token: tokens.access_token }, basic(rs.clientId, 'wrong-secret')],
      [{ token: tokens.access_token, client_id: rs.clientId, client_secret: 'wrong-secret' }, {}],
      [{ token: tokens.access_token, client_id: rs.clientId }, {}],
      [{ token: tokens.access_token }, {}],
    ] as const) {
      const res = await introspect(fields, headers);
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_client');
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    const missing = await introspect({});
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');
    const badHint = await introspect({ token: tokens.access_token, token_type_hint: 'id_token' });
    expect(badHint.status).toBe(400);
    expect(badHint.json.error).toBe('unsupported_token_type');
  });

  test('discovery advertises both endpoints and their authentication methods', async () => {
    const res = await fetch(`${server.url}/.well-known/oauth-authorization-server`);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      revocation_endpoint: `${server.url}/oauth/revoke`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint: `${server.url}/oauth/introspect`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  });
});
