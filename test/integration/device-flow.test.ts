// The acceptance run: a real OAuth client library (openid-client v6) completes the device flow
// against the server over real HTTP, with a scripted user approving through the HTML forms.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { ScriptedBrowser } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

describe('device flow with openid-client over HTTP (ES256)', () => {
  let server: TestServer;
  const seen: { error?: string; status: number }[] = [];

  beforeAll(async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'authgate-key-'));
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPath = join(keyDir, 'es256.pem');
    writeFileSync(keyPath, privateKey.export({ format: 'pem', type: 'sec1' }));
    server = await startTestServer({ JWT_SIGNING_ALGORITHM: 'ES256', JWT_PRIVATE_KEY_PATH: keyPath });
  });
  afterAll(() => server.close());

  // Records every token-endpoint answer the library and the test receive.
  const recordingFetch: client.CustomFetch = async (url, options) => {
    const res = await fetch(url, options as RequestInit);
    if (url.endsWith('/oauth/token')) {
      const body = (await res.clone().json()) as { error?: string };
      seen.push({ status: res.status, error: body.error });
    }
    return res;
  };

  test('discovery, device authorization, user approval, polling, JWKS-verified token, tokeninfo, refresh', async () => {
    const config = await client.discovery(new URL(server.url), server.cliClientId, undefined, client.None(), {
      execute: [client.allowInsecureRequests],
      [client.customFetch]: recordingFetch,
    });
    expect(config.serverMetadata().device_authorization_endpoint).toBe(`${server.url}/oauth/device/code`);

    const device = await client.initiateDeviceAuthorization(config, { scope: 'profile email offline_access read' });
    expect(device.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(device.verification_uri).toBe(`${server.url}/device`);
    expect(device.expires_in).toBe(1800);

    // Poll before the user acts: pending; poll again at once: slow_down with a longer interval.
    const poll = () =>
      recordingFetch(`${server.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: device.device_code, client_id: server.cliClientId }).toString(),
      } as never);
    const pending = await poll();
    expect(pending.status).toBe(400);
    expect(pending.headers.get('cache-control')).toBe('no-store');
    expect(await pending.json()).toMatchObject({ error: 'authorization_pending' });
    const slow = await poll();
    expect(await slow.json()).toMatchObject({ error: 'slow_down', interval: 6 });

    // The user signs in (CSRF-protected form), opens the verification link and approves.
    const browser = new ScriptedBrowser(server.url);
    const complete = new URL(device.verification_uri_complete!);
    const toLogin = await browser.get(complete.pathname + complete.search);
    expect(toLogin.status).toBe(302);
    const loggedIn = await browser.login('admin', ADMIN_PASSWORD, complete.pathname + complete.search);
    expect(loggedIn.status).toBe(302);
    const devicePage = await browser.follow(loggedIn);
    expect(devicePage.html).toContain(`value="${device.user_code}"`);
    const confirm = await browser.submit(devicePage, '/device/verify', {});
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('AuthGate CLI');
    expect(confirm.html).toContain('offline_access');
    const done = await browser.submit(confirm, '/device/verify', { action: 'approve' });
    expect(done.html).toContain('Device connected');

    const tokens = await client.pollDeviceAuthorizationGrant(config, device);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toBe('profile email offline_access read');
    expect(seen.some((s) => s.error === 'authorization_pending')).toBe(true);
    expect(seen.filter((s) => s.error === 'slow_down').length).toBeGreaterThanOrEqual(1);

    // The access token verifies against the published JWKS.
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: server.url, typ: 'at+jwt', audience: server.url });
    const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    expect(payload).toMatchObject({ sub: admin.id, client_id: server.cliClientId, scope: 'profile email offline_access read' });

    const info = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(info.status).toBe(200);
    expect(await info.json()).toMatchObject({ active: true, user_id: admin.id, client_id: server.cliClientId });

    // The refresh grant yields a new, valid access token.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    const info2 = await fetch(`${server.url}/oauth/tokeninfo?access_token=${encodeURIComponent(refreshed.access_token)}`);
    expect(info2.status).toBe(200);

    // Nothing stored holds a token value.
    const rows = await server.authgate.db.token.findMany();
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(tokens.access_token);
    expect(stored).not.toContain(tokens.refresh_token);
  }, 60_000);
});
