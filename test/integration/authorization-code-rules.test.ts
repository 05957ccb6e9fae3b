// The Authorization Code, refresh, client credentials and resource-indicator rules, each on its own.
import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient, type TestClient } from '../helpers/clients.js';
import { json, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

function authorizePath(c: TestClient, extra: Record<string, string | string[]> = {}): string {
  const q = new URLSearchParams({ response_type: 'code', client_id: c.clientId, redirect_uri: c.redirectUri, scope: 'openid profile offline_access', state: 'st-1' });
  for (const [k, v] of Object.entries(extra)) {
    q.delete(k);
    for (const value of Array.isArray(v) ? v : [v]) q.append(k, value);
  }
  return `/oauth/authorize?${q}`;
}

async function signedIn(server: TestServer): Promise<ScriptedBrowser> {
  const browser = new ScriptedBrowser(server.url);
  expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
  return browser;
}

/** Runs the browser part and returns the code (consenting when asked). */
async function getCode(server: TestServer, browser: ScriptedBrowser, c: TestClient, extra: Record<string, string | string[]> = {}): Promise<string> {
  let page = await browser.get(authorizePath(c, extra));
  if (page.status === 200) page = await browser.submit(page, '/oauth/authorize', { decision: 'approve' });
  expect(page.status).toBe(302);
  const code = new URL(page.location!).searchParams.get('code');
  if (!code) throw new Error(`no code in ${page.location}`);
  return code;
}

function exchange(server: TestServer, c: TestClient, code: string, verifier: string | undefined, extra: Record<string, string> = {}) {
  return postForm(`${server.url}/oauth/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: c.redirectUri,
    client_id: c.clientId,
    ...(verifier ? { code_verifier: verifier } : {}),
    ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
    ...extra,
  });
}

describe('authorization code rules', () => {
  let server: TestServer;
  let pub: TestClient;
  let browser: ScriptedBrowser;
  beforeAll(async () => {
    server = await startTestServer();
    pub = await createClient(server, { type: 'public', redirectUris: ['http://127.0.0.1:9/cb', 'http://127.0.0.1:9/other'] });
    browser = await signedIn(server);
  });
  afterAll(() => server.close());

  test('redirect_uri mismatch: an error page, never a redirect', async () => {
    for (const redirect of ['http://127.0.0.1:9/cb/', 'http://127.0.0.1:9/CB', 'https://evil.example/cb', 'http://127.0.0.1:9/cb?x=1']) {
      const page = await browser.get(authorizePath(pub, { redirect_uri: redirect, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
      expect(page.status).toBe(400);
      expect(page.location).toBeUndefined();
      expect(page.html).toContain('not registered');
    }
    const unknown = await browser.get(authorizePath({ ...pub, clientId: 'nope' }));
    expect(unknown.status).toBe(400);
    expect(unknown.location).toBeUndefined();
  });

  test('PKCE: plain refused, missing refused for public clients; errors go back with state and iss', async () => {
    const plain = await browser.get(authorizePath(pub, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }));
    expect(plain.status).toBe(302);
    const url = new URL(plain.location!);
    expect(url.origin + url.pathname).toBe(pub.redirectUri);
    expect(url.searchParams.get('error')).toBe('invalid_request');
    expect(url.searchParams.get('state')).toBe('st-1');
    expect(url.searchParams.get('iss')).toBe(server.url);
    const missing = await browser.get(authorizePath(pub));
    expect(new URL(missing.location!).searchParams.get('error')).toBe('invalid_request');
  });

  test('a wrong code_verifier is invalid_grant', async () => {
    const { challenge } = pkce();
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await exchange(server, pub, code, pkce().verifier);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_grant');
  });

  test('code reuse fails and revokes the tokens of the first exchange', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256' });
    const first = await exchange(server, pub, code, verifier);
    expect(first.status).toBe(200);
    const at = first.json.access_token as string;
    expect((await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${at}` } })).status).toBe(200);
    const second = await exchange(server, pub, code, verifier);
    expect(second.json.error).toBe('invalid_grant');
    expect((await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${at}` } })).status).toBe(401);
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: first.json.refresh_token as string, client_id: pub.clientId });
    expect(refresh.json.error).toBe('invalid_grant');
  });

  test('an expired code is invalid_grant; userinfo answers POST as well as GET', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256' });
    await server.authgate.db.authorizationCode.updateMany({ where: { usedAt: null }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await exchange(server, pub, code, verifier);
    expect(expired.json).toMatchObject({ error: 'invalid_grant', error_description: expect.stringContaining('expired') });

    const fresh = pkce();
    const code2 = await getCode(server, browser, pub, { code_challenge: fresh.challenge, code_challenge_method: 'S256' });
    const tokens = (await exchange(server, pub, code2, fresh.verifier)).json as { access_token: string };
    const post = await postForm(`${server.url}/oauth/userinfo`, {}, { authorization: `Bearer ${tokens.access_token}` });
    expect(post.status).toBe(200);
    expect(post.json).toMatchObject({ preferred_username: 'admin' });
  });

  test('the code is bound to its client and redirect_uri', async () => {
    const { verifier, challenge } = pkce();
    const other = await createClient(server, { type: 'public' });
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(server, { ...other, redirectUri: pub.redirectUri }, code, verifier)).json.error).toBe('invalid_grant');
    expect((await exchange(server, { ...pub, redirectUri: 'http://127.0.0.1:9/other' }, code, verifier)).json.error).toBe('invalid_grant');
  });

  test('deny sends access_denied back to the client, is audited, and records no consent', async () => {
    const conf = await createClient(server, { type: 'confidential' });
    const page = await browser.get(authorizePath(conf));
    const denied = await browser.submit(page, '/oauth/authorize', { decision: 'deny' });
    const url = new URL(denied.location!);
    expect(url.searchParams.get('error')).toBe('access_denied');
    expect(url.searchParams.get('state')).toBe('st-1');
    await server.authgate.services.audit.flush();
    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'CONSENT_DENIED', clientId: conf.clientId } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ severity: 'WARNING', success: false, actorUsername: 'admin' });
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: conf.clientId } });
    expect(await server.authgate.db.userAuthorization.count({ where: { clientId: row.id } })).toBe(0);
  });

  test('the consent form needs its CSRF token', async () => {
    const conf = await createClient(server, { type: 'confidential' });
    const page = await browser.get(authorizePath(conf));
    const forged = await browser.submit(page, '/oauth/authorize', { decision: 'approve' }, { dropCsrf: true });
    expect(forged.status).toBe(403);
    expect(forged.location).toBeUndefined();
  });

  test('prompt=none without a session is login_required; not signed in goes to /login', async () => {
    const stranger = new ScriptedBrowser(server.url);
    const none = await stranger.get(authorizePath(pub, { prompt: 'none', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    expect(new URL(none.location!).searchParams.get('error')).toBe('login_required');
    const login = await stranger.get(authorizePath(pub, { code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    expect(login.location).toMatch(/^\/login\?redirect=%2Foauth%2Fauthorize/);
  });

  test('prompt=login asks for the password again even with a session, then continues', async () => {
    const user = await signedIn(server);
    const { challenge } = pkce();
    const first = await user.get(authorizePath(pub, { prompt: 'login', code_challenge: challenge, code_challenge_method: 'S256' }));
    expect(first.location).toMatch(/^\/login\?redirect=/);
    expect(decodeURIComponent(first.location!)).not.toContain('prompt=login');
    const loginPage = await user.follow(first);
    expect(loginPage.status).toBe(200);
    expect(loginPage.html).toContain('Sign in');
    let page = await user.submit(loginPage, '/login', { username: 'admin', password: ADMIN_PASSWORD });
    page = await user.follow(page);
    if (page.status === 200) page = await user.submit(page, '/oauth/authorize', { decision: 'approve' });
    expect(new URL(page.location!).searchParams.get('code')).toBeTruthy();
  });

  test('a client without the flow enabled gets unauthorized_client; unknown scopes invalid_scope', async () => {
    const off = await createClient(server, { type: 'confidential', authCode: false });
    const res = await browser.get(authorizePath(off));
    expect(new URL(res.location!).searchParams.get('error')).toBe('unauthorized_client');
    const scope = await browser.get(authorizePath(pub, { scope: 'openid admin', code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    expect(new URL(scope.location!).searchParams.get('error')).toBe('invalid_scope');
  });

  test('userinfo: no token 401 with a challenge, a refresh token as Bearer 401, no openid scope 403', async () => {
    const none = await fetch(`${server.url}/oauth/userinfo`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const { verifier, challenge } = pkce();
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256', scope: 'profile offline_access' });
    const tokens = (await exchange(server, pub, code, verifier)).json as { access_token: string; refresh_token: string; id_token?: string };
    expect(tokens.id_token).toBeUndefined();
    const asBearer = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.refresh_token}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toContain('invalid_token');
    const noOpenid = await fetch(`${server.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(noOpenid.status).toBe(403);
    expect(noOpenid.headers.get('www-authenticate')).toContain('insufficient_scope');
  });

  test('refresh: scope may narrow but not widen; refresh tokens are bound to their client', async () => {
    const { verifier, challenge } = pkce();
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid offline_access' });
    const tokens = (await exchange(server, pub, code, verifier)).json as { refresh_token: string };
    const wider = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: pub.clientId, scope: 'openid profile' });
    expect(wider.json.error).toBe('invalid_scope');
    const other = await createClient(server, { type: 'public' });
    const cross = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: other.clientId });
    expect(cross.json.error).toBe('invalid_grant');
    const ok = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: pub.clientId, scope: 'openid' });
    expect(ok.status).toBe(200);
    expect(ok.json.scope).toBe('openid');
  });

  test('resource indicators: aud bound at authorize; refresh within what was granted, else invalid_target', async () => {
    const { verifier, challenge } = pkce();
    const api = 'https://api.example.com/';
    const code = await getCode(server, browser, pub, { code_challenge: challenge, code_challenge_method: 'S256', resource: [api, 'https://mcp.example.com/'] });
    const tokens = (await exchange(server, pub, code, verifier, { resource: api })).json as { access_token: string; refresh_token: string };
    expect(decodeJwt(tokens.access_token).aud).toBe(api);
    const outside = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: pub.clientId, resource: 'https://other.example.com/' });
    expect(outside.json.error).toBe('invalid_target');
    const inside = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: pub.clientId, resource: 'https://mcp.example.com/' });
    expect(decodeJwt(inside.json.access_token as string).aud).toBe('https://mcp.example.com/');
    const bad = await browser.get(authorizePath(pub, { code_challenge: challenge, code_challenge_method: 'S256', resource: 'not a uri' }));
    expect(new URL(bad.location!).searchParams.get('error')).toBe('invalid_target');
  });

  test('device flow: resources bound at device authorization, chosen among at the token request', async () => {
    const dev = await createClient(server, { type: 'public', device: true, authCode: false });
    const fragment = await postForm(`${server.url}/oauth/device/code`, { client_id: dev.clientId, scope: 'read', resource: 'https://api.example.com/#frag' });
    expect(fragment.json.error).toBe('invalid_target');

    const body = new URLSearchParams({ client_id: dev.clientId, scope: 'read offline_access' });
    body.append('resource', 'https://a.example.com/');
    body.append('resource', 'https://b.example.com/');
    const device = await json(await fetch(`${server.url}/oauth/device/code`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }));
    const entry = await browser.get('/device');
    const confirm = await browser.submit(entry, '/device/verify', { user_code: device.user_code });
    expect(confirm.html).toContain('https://b.example.com/');
    await browser.submit(confirm, '/device/verify', { action: 'approve' });
    const poll = (resource: string) =>
      postForm(`${server.url}/oauth/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: device.device_code, client_id: dev.clientId, resource });
    const outside = await poll('https://c.example.com/');
    expect(outside.json.error).toBe('invalid_target');
    await new Promise((r) => setTimeout(r, 1100)); // respect the polling interval
    const tokens = await poll('https://b.example.com/');
    expect(tokens.status).toBe(200);
    expect(decodeJwt(tokens.json.access_token as string).aud).toBe('https://b.example.com/');
    // The refresh token keeps both approved resources.
    const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.json.refresh_token as string, client_id: dev.clientId, resource: 'https://a.example.com/' });
    expect(decodeJwt(refreshed.json.access_token as string).aud).toBe('https://a.example.com/');
  });
});

describe('client credentials rules and token profiles', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('public clients cannot use client_credentials; openid and offline_access are refused; wrong secret is 401', async () => {
    const pub = await createClient(server, { type: 'public', clientCredentials: true });
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: pub.clientId, scope: 'read' });
    expect(res.json.error).toBe('unauthorized_client');
    const svc = await createClient(server, { type: 'confidential', clientCredentials: true, scopes: 'openid read write' });
    const basic = { authorization: `Basic ${Buffer.from(`${svc.clientId}:${svc.clientSecret}`).toString('base64')}` };
    const openid = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'openid' }, basic);
    expect(openid.json.error).toBe('invalid_scope');
    const outside = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read admin' }, basic);
    expect(outside.json.error).toBe('invalid_scope');
    const dflt = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, basic);
    expect(dflt.json.scope).toBe('read write');
    const wrong = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: 'wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe('invalid_client');
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic/);
    const disabled = await createClient(server, { type: 'confidential', clientCredentials: false });
    const off = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: disabled.clientId, client_secret: disabled.clientSecret! });
    expect(off.json.error).toBe('unauthorized_client');
  });

  test('token lifetimes follow the client profile', async () => {
    const browser = await signedIn(server);
    for (const [profile, access] of [['short', 900], ['long', 86400]] as const) {
      const c = await createClient(server, { type: 'public', tokenProfile: profile });
      const { verifier, challenge } = pkce();
      const code = await getCode(server, browser, c, { code_challenge: challenge, code_challenge_method: 'S256' });
      const res = await exchange(server, c, code, verifier);
      expect(res.json.expires_in).toBe(access);
      const refresh = await server.authgate.db.token.findFirstOrThrow({ where: { category: 'refresh', client: { clientId: c.clientId } } });
      const days = (refresh.expiresAt.getTime() - Date.now()) / 86_400_000;
      expect(Math.round(days)).toBe(profile === 'short' ? 1 : 90);
    }
  });
});
