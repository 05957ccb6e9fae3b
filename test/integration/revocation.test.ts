// Token revocation (RFC 7009) over HTTP, and the account/admin revocations of RevocationService.
import { sha256Hex } from '../../src/domain/crypto.js';
import { NotFound } from '../../src/domain/errors.js';
import { generateClientSecret } from '../../src/services/clients.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { DEVICE_GRANT, json, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

interface Tokens {
  access_token: string;
  refresh_token: string;
}

function basic(clientId: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` };
}

/** Device flow end to end: device code → a person approves in the browser → one poll. */
async function deviceTokens(
  server: TestServer,
  opts: { clientId?: string; headers?: Record<string, string>; username?: string; password?: string } = {},
): Promise<Tokens> {
  const clientId = opts.clientId ?? server.cliClientId;
  const auth = opts.headers ?? {};
  const fields: Record<string, string> = opts.headers ? {} : { client_id: clientId };
  const device = await postForm(`${server.url}/oauth/device/code`, { ...fields, scope: 'read offline_access' }, auth);
  expect(device.status).toBe(200);
  const browser = new ScriptedBrowser(server.url);
  expect((await browser.login(opts.username ?? 'admin', opts.password ?? ADMIN_PASSWORD)).status).toBe(302);
  const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: String(device.json.user_code) });
  await browser.submit(confirm, '/device/verify', { action: 'approve' });
  const res = await postForm(`${server.url}/oauth/token`, { ...fields, grant_type: DEVICE_GRANT, device_code: String(device.json.device_code) }, auth);
  expect(res.status).toBe(200);
  expect(res.json.refresh_token).toBeTruthy();
  return res.json as unknown as Tokens;
}

describe('POST /oauth/revoke', () => {
  let server: TestServer;
  // A confidential client (used as the resource server for introspection, and with Basic auth).
  const rs = { clientId: 'resource-server', secret: '' };
  // A confidential client that also gets its own tokens through the device flow.
  const app = { clientId: 'confidential-app', secret: '' };

  const revoke = (fields: Record<string, string>, headers: Record<string, string> = {}) => postForm(`${server.url}/oauth/revoke`, fields, headers);
  const introspect = (token: string) => postForm(`${server.url}/oauth/introspect`, { token }, basic(rs.clientId, rs.secret));
  const tokeninfo = (token: string) => fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    server = await startTestServer();
    for (const c of [rs, app]) {
      const { secret, hash } = generateClientSecret();
      c.secret = secret;
      await server.authgate.db.oAuthClient.create({
        data: {
          clientId: c.clientId,
          name: c.clientId,
          clientType: 'confidential',
          clientSecretHash: hash,
          allowedScopes: 'read offline_access',
          enableDeviceFlow: c === app,
        },
      });
    }
  });
  afterAll(() => server.close());

  test('revoking an access token: 200 with an empty body; tokeninfo 401, introspection inactive; the refresh token lives on', async () => {
    const tokens = await deviceTokens(server);
    expect((await tokeninfo(tokens.access_token)).status).toBe(200);

    const res = await revoke({ client_id: server.cliClientId, token: tokens.access_token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    const info = await tokeninfo(tokens.access_token);
    expect(info.status).toBe(401);
    expect((await json(info)).error).toBe('invalid_token');
    expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
    // Only that token: its refresh token is still good and still buys new access tokens.
    expect((await introspect(tokens.refresh_token)).json.active).toBe(true);
    const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: server.cliClientId });
    expect(refreshed.status).toBe(200);

    const db = server.authgate.db;
    const row = await db.token.findFirstOrThrow({ where: { category: 'access', status: 'revoked' }, orderBy: { createdAt: 'desc' } });
    expect(row.revokedAt).toBeInstanceOf(Date);
    await server.authgate.services.audit.flush();
    const event = await db.auditEvent.findFirst({ where: { eventType: 'TOKEN_REVOKED', subjectId: row.id } });
    expect(event).toMatchObject({ severity: 'INFO', success: true, clientId: server.cliClientId });
    // The token value never reaches the audit log.
    expect(JSON.stringify(await db.auditEvent.findMany())).not.toContain(tokens.access_token);
  });

  test('revoking a refresh token revokes its family: the refresh grant fails and its access token is inactive', async () => {
    const tokens = await deviceTokens(server);
    const res = await revoke({ client_id: server.cliClientId, token: tokens.refresh_token, token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: server.cliClientId });
    expect(refresh.status).toBe(400);
    expect(refresh.json.error).toBe('invalid_grant');
    expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
    expect((await introspect(tokens.refresh_token)).json).toEqual({ active: false });
    expect((await tokeninfo(tokens.access_token)).status).toBe(401);
    const db = server.authgate.db;
    const row = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(tokens.refresh_token) } });
    const family = await db.token.findMany({ where: { familyId: row.familyId } });
    expect(family).toHaveLength(2);
    for (const t of family) {
      expect(t.status).toBe('revoked');
      expect(t.revokedAt).toBeInstanceOf(Date);
    }
  });

  test('the hint is only a hint: a wrong one still revokes', async () => {
    const tokens = await deviceTokens(server);
    expect((await revoke({ client_id: server.cliClientId, token: tokens.refresh_token, token_type_hint: 'access_token' })).status).toBe(200);
    expect((await introspect(tokens.refresh_token)).json).toEqual({ active: false });
    expect((await introspect(tokens.access_token)).json).toEqual({ active: false });

    const more = await deviceTokens(server);
    expect((await revoke({ client_id: server.cliClientId, token: more.access_token, token_type_hint: 'refresh_token' })).status).toBe(200);
    expect((await introspect(more.access_token)).json).toEqual({ active: false });
  });

  test('unknown and already-revoked tokens get the same 200', async () => {
    const unknown = await revoke({ client_id: server.cliClientId, token: 'no-such-token' });
    expect(unknown.status).toBe(200);
    expect(unknown.text).toBe('');

    const tokens = await deviceTokens(server);
    expect((await revoke({ client_id: server.cliClientId, token: tokens.access_token })).status).toBe(200);
    const again = await revoke({ client_id: server.cliClientId, token: tokens.access_token });
    expect(again.status).toBe(200);
    expect(again.text).toBe('');
  });

  test("another client's token: the same 200 as for an unknown token, nothing revoked, a WARNING recorded", async () => {
    const tokens = await deviceTokens(server);
    for (const token of [tokens.access_token, tokens.refresh_token]) {
      const res = await revoke({ token }, basic(app.clientId, app.secret));
      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      expect((await introspect(token)).json.active).toBe(true);
    }
    expect((await tokeninfo(tokens.access_token)).status).toBe(200);

    const db = server.authgate.db;
    await server.authgate.services.audit.flush();
    const refused = await db.auditEvent.findMany({ where: { eventType: 'TOKEN_REVOCATION_REFUSED', clientId: app.clientId } });
    expect(refused).toHaveLength(2);
    for (const e of refused) expect(e).toMatchObject({ severity: 'WARNING', success: false });
    const rows = await db.token.findMany({ where: { tokenHash: { in: [sha256Hex(tokens.access_token), sha256Hex(tokens.refresh_token)] } } });
    expect(rows.map((r) => r.status)).toEqual(['active', 'active']);
  });

  test('a confidential client revokes its own token with client_secret_basic or client_secret_post', async () => {
    const one = await deviceTokens(server, { headers: basic(app.clientId, app.secret) });
    expect((await revoke({ token: one.access_token }, basic(app.clientId, app.secret))).status).toBe(200);
    expect((await introspect(one.access_token)).json).toEqual({ active: false });

    const two = await deviceTokens(server, { headers: basic(app.clientId, app.secret) });
    expect((await revoke({ client_id: app.clientId, client_secret: app.secret, token: two.refresh_token })).status).toBe(200);
    expect((await introspect(two.access_token)).json).toEqual({ active: false });
    expect((await introspect(two.refresh_token)).json).toEqual({ active: false });
  });

  test('errors: unknown hint, missing token, failed client authentication', async () => {
    const tokens = await deviceTokens(server);
    const badHint = await revoke({ client_id: server.cliClientId, token: tokens.access_token, token_type_hint: 'id_token' });
    expect(badHint.status).toBe(400);
    expect(badHint.json.error).toBe('unsupported_token_type');
    expect(badHint.headers.get('cache-control')).toBe('no-store');
    expect((await introspect(tokens.access_token)).json.active).toBe(true);

    const missing = await revoke({ client_id: server.cliClientId });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe('invalid_request');

    const wrongBasic = await revoke({ token: tokens.access_token }, basic(app.clientId, 'not-the-secret'));
    expect(wrongBasic.status).toBe(401);
    expect(wrongBasic.json.error).toBe('invalid_client');
    expect(wrongBasic.headers.get('www-authenticate')).toMatch(/^Basic /);

    const wrongPost = await revoke({ client_id: app.clientId, client_secret: 'not-the-secret', token: tokens.access_token });
    expect(wrongPost.status).toBe(401);
    expect(wrongPost.json.error).toBe('invalid_client');
    expect(wrongPost.headers.get('www-authenticate')).toMatch(/^Basic /);

    const noSecret = await revoke({ client_id: app.clientId, token: tokens.access_token });
    expect(noSecret.status).toBe(401);
    expect((await introspect(tokens.access_token)).json.active).toBe(true);
    // No credentials at all is not a failed authentication: the holder of a token may give it up
    // (as AuthGate's SDKs do; see authgate-compat.test.ts).
    const noClient = await revoke({ token: tokens.access_token });
    expect(noClient.status).toBe(200);
    expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
  });

  test('a disabled client cannot revoke or refresh', async () => {
    const tokens = await deviceTokens(server, { headers: basic(app.clientId, app.secret) });
    const disabled = await server.authgate.db.oAuthClient.update({ where: { clientId: app.clientId }, data: { active: false } });
    // Written behind the services' back: the cached copy is dropped by hand.
    await server.authgate.caches.clientChanged(disabled);
    try {
      const res = await revoke({ token: tokens.access_token }, basic(app.clientId, app.secret));
      expect(res.status).toBe(401);
      expect(res.json.error).toBe('invalid_client');
      const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, basic(app.clientId, app.secret));
      expect(refresh.status).toBe(401);
      expect(refresh.json.error).toBe('invalid_client');
      expect((await introspect(tokens.access_token)).json).toEqual({ active: false });
    } finally {
      await server.authgate.db.oAuthClient.update({ where: { clientId: app.clientId }, data: { active: true } });
      await server.authgate.caches.clientChanged(disabled);
    }
  });
});

describe('RevocationService: account and admin revocation', () => {
  let server: TestServer;
  const rs = { clientId: 'resource-server', secret: '' };
  const introspect = (token: string) => postForm(`${server.url}/oauth/introspect`, { token }, basic(rs.clientId, rs.secret));
  const req = { ip: '127.0.0.1', userAgent: 'jest' };

  beforeAll(async () => {
    server = await startTestServer();
    const { secret, hash } = generateClientSecret();
    rs.secret = secret;
    await server.authgate.db.oAuthClient.create({ data: { clientId: rs.clientId, name: 'RS', clientType: 'confidential', clientSecretHash: hash } });
    await server.authgate.db.user.create({ data: { username: 'erin', passwordHash: await hashPassword('erin-password-1') } });
  });
  afterAll(() => server.close());

  async function consent(username: string, clientId: string) {
    const db = server.authgate.db;
    const user = await db.user.findUniqueOrThrow({ where: { username } });
    const client = await db.oAuthClient.findUniqueOrThrow({ where: { clientId } });
    // Upsert: the consent flow may already have recorded one for this pair.
    return db.userAuthorization.upsert({
      where: { userId_clientId: { userId: user.id, clientId: client.id } },
      create: { userId: user.id, clientId: client.id, scopes: 'read offline_access' },
      update: { revokedAt: null },
    });
  }

  test("revokeUserAuthorization: the consent is revoked and that user's tokens for that client stop working", async () => {
    const db = server.authgate.db;
    const other = await db.oAuthClient.create({
      data: { clientId: 'other-cli', name: 'Other CLI', clientType: 'public', allowedScopes: 'read offline_access', enableDeviceFlow: true },
    });
    const first = await deviceTokens(server);
    const second = await deviceTokens(server);
    const otherClient = await deviceTokens(server, { clientId: other.clientId });
    const erins = await deviceTokens(server, { username: 'erin', password: 'erin-password-1' });
    const authorization = await consent('admin', server.cliClientId);
    const admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });

    const result = await server.authgate.services.revocation.revokeUserAuthorization(admin.id, authorization.id, req);
    expect(result.tokensRevoked).toBe(4);
    for (const t of [first.access_token, first.refresh_token, second.access_token, second.refresh_token]) {
      expect((await introspect(t)).json).toEqual({ active: false });
    }
    // Not the same user's tokens for another client, nor another user's tokens for this client.
    expect((await introspect(otherClient.access_token)).json.active).toBe(true);
    expect((await introspect(erins.access_token)).json.active).toBe(true);
    const after = await db.userAuthorization.findUniqueOrThrow({ where: { id: authorization.id } });
    expect(after.revokedAt).toBeInstanceOf(Date);
    const revokedRows = await db.token.findMany({ where: { userId: admin.id, client: { clientId: server.cliClientId } } });
    for (const row of revokedRows) {
      expect(row.status).toBe('revoked');
      expect(row.revokedAt).toBeInstanceOf(Date);
    }
    await server.authgate.services.audit.flush();
    expect(await db.auditEvent.count({ where: { eventType: 'AUTHORIZATION_REVOKED', subjectId: authorization.id, actorUserId: admin.id } })).toBe(1);
  });

  test("revokeUserAuthorization: NotFound for another user's authorization or an unknown id; nothing changes", async () => {
    const db = server.authgate.db;
    const admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    const erinsTokens = await deviceTokens(server, { username: 'erin', password: 'erin-password-1' });
    const erins = await consent('erin', server.cliClientId);
    const revocation = server.authgate.services.revocation;
    await expect(revocation.revokeUserAuthorization(admin.id, erins.id, req)).rejects.toBeInstanceOf(NotFound);
    await expect(revocation.revokeUserAuthorization(admin.id, '00000000-0000-0000-0000-000000000000', req)).rejects.toBeInstanceOf(NotFound);
    expect((await db.userAuthorization.findUniqueOrThrow({ where: { id: erins.id } })).revokedAt).toBeNull();
    expect((await introspect(erinsTokens.access_token)).json.active).toBe(true);
  });

  test('revokeAllForClient: every token of the client and every consent to it are revoked; other clients untouched', async () => {
    const db = server.authgate.db;
    const bulk = await db.oAuthClient.create({
      data: { clientId: 'bulk-cli', name: 'Bulk CLI', clientType: 'public', allowedScopes: 'read offline_access', enableDeviceFlow: true },
    });
    const adminTokens = await deviceTokens(server, { clientId: bulk.clientId });
    const erinTokens = await deviceTokens(server, { clientId: bulk.clientId, username: 'erin', password: 'erin-password-1' });
    const untouched = await deviceTokens(server, { username: 'erin', password: 'erin-password-1' });
    const consents = [await consent('admin', bulk.clientId), await consent('erin', bulk.clientId)];
    const admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });

    const result = await server.authgate.services.revocation.revokeAllForClient(bulk.id, { userId: admin.id, username: admin.username }, req);
    expect(result).toMatchObject({ tokensRevoked: 4, authorizationsRevoked: 2 });
    for (const t of [adminTokens.access_token, adminTokens.refresh_token, erinTokens.access_token, erinTokens.refresh_token]) {
      expect((await introspect(t)).json).toEqual({ active: false });
    }
    expect((await introspect(untouched.access_token)).json.active).toBe(true);
    for (const c of consents) expect((await db.userAuthorization.findUniqueOrThrow({ where: { id: c.id } })).revokedAt).toBeInstanceOf(Date);
    expect(await db.token.count({ where: { clientId: bulk.id, status: { not: 'revoked' } } })).toBe(0);
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: adminTokens.refresh_token, client_id: bulk.clientId });
    expect(refresh.json.error).toBe('invalid_grant');

    // Written at once (no flush needed), at WARNING.
    const event = await db.auditEvent.findFirstOrThrow({ where: { eventType: 'CLIENT_TOKENS_REVOKED', subjectId: bulk.id } });
    expect(event).toMatchObject({ severity: 'WARNING', actorUserId: admin.id, clientId: bulk.clientId });

    await expect(server.authgate.services.revocation.revokeAllForClient('00000000-0000-0000-0000-000000000000', { userId: admin.id }, req)).rejects.toBeInstanceOf(
      NotFound,
    );
  });
});
