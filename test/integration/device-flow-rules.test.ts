// The device flow's rules, one by one: deny, single use, code entry, client binding, expiry,
// CSRF, open redirects, guessing, disabled users, revoked tokens.
import { ScriptedBrowser, type Page } from '../helpers/browser.js';
import { DEVICE_GRANT, json, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

async function authorize(server: TestServer, scope = 'read') {
  const res = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope });
  expect(res.status).toBe(200);
  return res.json as { device_code: string; user_code: string; interval: number };
}

async function signedIn(server: TestServer): Promise<ScriptedBrowser> {
  const browser = new ScriptedBrowser(server.url);
  const res = await browser.login('admin', ADMIN_PASSWORD);
  expect(res.status).toBe(302);
  return browser;
}

async function enterCode(browser: ScriptedBrowser, userCode: string): Promise<Page> {
  const page = await browser.get('/device');
  return browser.submit(page, '/device/verify', { user_code: userCode });
}

function poll(server: TestServer, deviceCode: string, clientId = server.cliClientId) {
  return postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: clientId });
}

describe('device flow rules', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('deny: the device gets access_denied', async () => {
    const device = await authorize(server);
    const browser = await signedIn(server);
    const confirm = await enterCode(browser, device.user_code);
    const done = await browser.submit(confirm, '/device/verify', { action: 'deny' });
    expect(done.html).toContain('Request denied');
    const res = await poll(server, device.device_code);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('access_denied');
  });

  test('a device code yields tokens exactly once', async () => {
    const device = await authorize(server);
    const browser = await signedIn(server);
    const confirm = await enterCode(browser, device.user_code);
    await browser.submit(confirm, '/device/verify', { action: 'approve' });
    const first = await poll(server, device.device_code);
    expect(first.status).toBe(200);
    expect(first.json.access_token).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1100));
    const second = await poll(server, device.device_code);
    expect(second.status).toBe(400);
    expect(second.json.error).toBe('invalid_grant');
    // The approved code cannot be approved again either.
    const again = await enterCode(browser, device.user_code);
    expect(again.status).toBe(400);
  });

  test('user codes are case-insensitive and ignore dashes and spaces', async () => {
    const device = await authorize(server);
    const browser = await signedIn(server);
    const typed = ` ${device.user_code.toLowerCase().replace('-', ' ')} `;
    const confirm = await enterCode(browser, typed);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain(device.user_code);
  });

  test('a device code is bound to its client; unknown clients are invalid_client', async () => {
    const other = await server.authgate.db.oAuthClient.create({
      data: { clientId: 'other-cli', name: 'Other CLI', clientType: 'public', allowedScopes: 'read', enableDeviceFlow: true },
    });
    const device = await authorize(server);
    const res = await poll(server, device.device_code, other.clientId);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_grant');

    const unknown = await postForm(`${server.url}/oauth/device/code`, { client_id: 'no-such-client', scope: 'read' });
    expect(unknown.status).toBe(401);
    expect(unknown.json.error).toBe('invalid_client');
    expect(unknown.headers.get('www-authenticate')).toMatch(/^Basic/);
  });

  test('a client without the device flow enabled gets unauthorized_client; a scope outside its list invalid_scope', async () => {
    await server.authgate.db.oAuthClient.create({
      data: { clientId: 'no-device', name: 'No device', clientType: 'public', allowedScopes: 'read', enableDeviceFlow: false },
    });
    const res = await postForm(`${server.url}/oauth/device/code`, { client_id: 'no-device', scope: 'read' });
    expect(res.json.error).toBe('unauthorized_client');
    const scope = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read nuclear_codes' });
    expect(scope.json.error).toBe('invalid_scope');
  });

  test('CSRF: forms without the token are refused and change nothing', async () => {
    const device = await authorize(server);
    const browser = await signedIn(server);
    const confirm = await enterCode(browser, device.user_code);
    const forged = await browser.submit(confirm, '/device/verify', { action: 'approve' }, { dropCsrf: true });
    expect(forged.status).toBe(403);
    const row = await server.authgate.db.deviceCode.findUniqueOrThrow({ where: { userCode: device.user_code.replace('-', '') } });
    expect(row.status).toBe('pending');

    const stranger = new ScriptedBrowser(server.url);
    const page = await stranger.get('/login');
    const noCsrf = await stranger.submit(page, '/login', { username: 'admin', password: ADMIN_PASSWORD }, { dropCsrf: true });
    expect(noCsrf.status).toBe(403);
  });

  test('after login the user goes back only to a local path', async () => {
    for (const target of ['https://evil.example/x', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const browser = new ScriptedBrowser(server.url);
      const res = await browser.login('admin', ADMIN_PASSWORD, target);
      expect(res.status).toBe(302);
      expect(res.location).toBe('/');
    }
    const browser = new ScriptedBrowser(server.url);
    const res = await browser.login('admin', ADMIN_PASSWORD, '/device?user_code=ABCD-EFGH');
    expect(res.location).toBe('/device?user_code=ABCD-EFGH');
  });

  test('a failed login says nothing about whether the user exists', async () => {
    const a = await new ScriptedBrowser(server.url).login('admin', 'wrong-password');
    const b = await new ScriptedBrowser(server.url).login('nobody-here', 'wrong-password');
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    const message = (p: Page) => /role="alert">([^<]*)</.exec(p.html)?.[1];
    expect(message(a)).toBe('Invalid username or password.');
    expect(message(b)).toBe(message(a));
  });

  test("a disabled user's session stops working on the next request", async () => {
    const { hashPassword } = await import('../helpers/passwords.js');
    await server.authgate.db.user.create({ data: { username: 'carol', passwordHash: await hashPassword('carol-password-1') } });
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login('carol', 'carol-password-1')).status).toBe(302);
    expect((await browser.get('/device')).status).toBe(200);
    const carol = await server.authgate.db.user.update({ where: { username: 'carol' }, data: { active: false } });
    await server.authgate.caches.userChanged(carol.id); // written behind the services' back
    const after = await browser.get('/device');
    expect(after.status).toBe(302);
    expect(after.location).toMatch(/^\/login/);
    // A form posted after the session ended goes to sign-in and back to the form, not to a dead end.
    const posted = await browser.post('/device/verify', { user_code: 'BCDF-GHJK' });
    expect(posted.location).toBe('/login?redirect=%2Fdevice');
  });

  test('tokeninfo rejects a revoked token although its signature is valid, and a refresh token as a bearer', async () => {
    const device = await authorize(server);
    const browser = await signedIn(server);
    await browser.submit(await enterCode(browser, device.user_code), '/device/verify', { action: 'approve' });
    const tokens = (await poll(server, device.device_code)).json as { access_token: string; refresh_token: string };
    const ok = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(ok.status).toBe(200);

    const asBearer = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${tokens.refresh_token}` } });
    expect(asBearer.status).toBe(401);
    expect((await json(asBearer)).error).toBe('invalid_token');

    const row = await server.authgate.db.token.findFirstOrThrow({ where: { category: 'access' }, orderBy: { createdAt: 'desc' } });
    await server.authgate.services.tokens.revokeFamily(row.familyId);
    const revoked = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
  });
});

describe('device code expiry', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ DEVICE_CODE_EXPIRATION: '1s' });
  });
  afterAll(() => server.close());

  test('an expired device code gets expired_token and cannot be approved', async () => {
    const device = await authorize(server);
    expect((device as unknown as { expires_in: number }).expires_in).toBe(1);
    await new Promise((r) => setTimeout(r, 1200));
    const res = await poll(server, device.device_code);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('expired_token');
    const browser = await signedIn(server);
    const page = await enterCode(browser, device.user_code);
    expect(page.status).toBe(400);
    expect(page.html).toContain('not valid or has expired');
  });
});

describe('user code guessing', () => {
  // Its own server: the limiter it trips would slow every other test from this address.
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('wrong codes get a clear message, and repeated guessing is slowed', async () => {
    const browser = await signedIn(server);
    const wrong = await enterCode(browser, 'BCDF-GHJK');
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('That code is not valid or has expired');
    for (let i = 0; i < 4; i++) await enterCode(browser, 'BCDF-GHJK');
    const blocked = await enterCode(browser, 'BCDF-GHJK');
    expect(blocked.status).toBe(429);
    expect(blocked.html).toContain('Too many wrong codes');
  });
});
