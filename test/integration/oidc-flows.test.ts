// Acceptance: openid-client v6 against the started server over real HTTP — authorization code with
// PKCE for a public and a confidential client (ID Token validated by the library: signature via JWKS
// in an ES256 run, nonce, at_hash), userinfo, refresh in fixed and rotation mode, client credentials.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient, type TestClient } from '../helpers/clients.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const insecure = { execute: [client.allowInsecureRequests] };

function es256KeyFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-key-'));
  const file = join(dir, 'key.pem');
  writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return file;
}

/** A person signs in and approves on the consent page; returns the callback URL the browser is sent to. */
async function userApproves(server: TestServer, browser: ScriptedBrowser, authUrl: URL, opts: { expectConsent?: boolean } = {}): Promise<URL> {
  let page = await browser.get(authUrl.pathname + authUrl.search);
  if (page.location?.startsWith('/login')) {
    page = await browser.follow(page);
    page = await browser.submit(page, '/login', { username: 'admin', password: ADMIN_PASSWORD });
    page = await browser.follow(page);
  }
  if (opts.expectConsent !== false) {
    expect(page.status).toBe(200);
    expect(page.html).toContain('Allow');
    page = await browser.submit(page, '/oauth/authorize', { decision: 'approve' });
  }
  expect(page.status).toBe(302);
  return new URL(page.location!);
}

async function codeFlow(server: TestServer, config: client.Configuration, testClient: TestClient, browser = new ScriptedBrowser(server.url), scope = 'openid profile email offline_access') {
  const codeVerifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const authUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: testClient.redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const callback = await userApproves(server, browser, authUrl);
  expect(callback.searchParams.get('iss')).toBe(server.url);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: codeVerifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
  return { tokens, nonce, browser };
}

describe('OIDC flows with openid-client (ES256, fixed refresh tokens)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ JWT_SIGNING_ALGORITHM: 'ES256', JWT_PRIVATE_KEY_PATH: es256KeyFile() });
    await server.authgate.db.user.update({ where: { username: 'admin' }, data: { email: 'admin@example.com', emailVerified: true, fullName: 'Ada Admin' } });
  });
  afterAll(() => server.close());

  test('public client: authorization code + PKCE, ID Token, userinfo, fixed refresh', async () => {
    const pub = await createClient(server, { type: 'public' });
    const config = await client.discovery(new URL(server.url), pub.clientId, undefined, client.None(), insecure);
    expect(config.serverMetadata().code_challenge_methods_supported).toEqual(['S256']);
    const { tokens, nonce } = await codeFlow(server, config, pub);

    const claims = tokens.claims()!;
    const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    expect(claims).toMatchObject({ iss: server.url, sub: admin.id, aud: pub.clientId, azp: pub.clientId, nonce, email: 'admin@example.com', email_verified: true, name: 'Ada Admin' });
    expect(typeof claims.at_hash).toBe('string');
    expect(typeof claims.auth_time).toBe('number');

    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: admin.id, preferred_username: 'admin', email: 'admin@example.com', email_verified: true });

    // Fixed mode: the refresh token stays the same and keeps working.
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(r1.refresh_token).toBeUndefined();
    const r2 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(r2.access_token).not.toBe(r1.access_token);
    // Narrowing scope on refresh is allowed.
    const narrow = await client.refreshTokenGrant(config, tokens.refresh_token!, { scope: 'openid profile' });
    expect(narrow.scope).toBe('openid profile');
  });

  test('confidential client (client_secret_basic and client_secret_post); consent remembered on the second run', async () => {
    const conf = await createClient(server, { type: 'confidential' });
    const basic = await client.discovery(new URL(server.url), conf.clientId, undefined, client.ClientSecretBasic(conf.clientSecret!), insecure);
    const { tokens, browser } = await codeFlow(server, basic, conf, new ScriptedBrowser(server.url), 'openid email');
    expect(tokens.claims()!.email).toBe('admin@example.com');
    expect(tokens.claims()!.name).toBeUndefined(); // no profile scope, no profile claims

    // Same user, same or narrower scopes: no consent page (CONSENT_REMEMBER default on).
    const post = await client.discovery(new URL(server.url), conf.clientId, undefined, client.ClientSecretPost(conf.clientSecret!), insecure);
    const codeVerifier = client.randomPKCECodeVerifier();
    const authUrl = client.buildAuthorizationUrl(post, {
      redirect_uri: conf.redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    const callback = await userApproves(server, browser, authUrl, { expectConsent: false });
    const again = await client.authorizationCodeGrant(post, callback, { pkceCodeVerifier: codeVerifier, idTokenExpected: true });
    expect(again.access_token).toBeTruthy();
    const consent = await server.authgate.db.userAuthorization.findFirstOrThrow({ where: { client: { clientId: conf.clientId } } });
    expect(consent.scopes.split(' ').sort()).toEqual(['email', 'openid']);
  });

  test('client credentials: a token for the client itself, no refresh token, no id_token', async () => {
    const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read write' });
    const config = await client.discovery(new URL(server.url), svc.clientId, undefined, client.ClientSecretBasic(svc.clientSecret!), insecure);
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    expect(tokens.scope).toBe('read');
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.id_token).toBeUndefined();
    expect(tokens.expires_in).toBe(3600);
    const info = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await info.json()).toMatchObject({ active: true, client_id: svc.clientId, subject_type: 'client', sub: `client:${svc.clientId}`, user_id: `client:${svc.clientId}` });
  });
});

describe('rotation mode with openid-client (HS256)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true' });
  });
  afterAll(() => server.close());

  test('each refresh rotates the refresh token; reusing an old one revokes the whole family', async () => {
    const pub = await createClient(server, { type: 'public' });
    const config = await client.discovery(new URL(server.url), pub.clientId, undefined, client.None(), insecure);
    const { tokens } = await codeFlow(server, config, pub);
    const r1 = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(r1.refresh_token).toBeTruthy();
    expect(r1.refresh_token).not.toBe(tokens.refresh_token);
    const r2 = await client.refreshTokenGrant(config, r1.refresh_token!);

    // The first refresh token was rotated away: presenting it again is reuse.
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Everything in the family is now dead, including the newest tokens.
    await expect(client.refreshTokenGrant(config, r2.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    const info = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${r2.access_token}` } });
    expect(info.status).toBe(401);
    await server.authgate.services.audit.flush();
    const warning = await server.authgate.db.auditEvent.findFirst({ where: { eventType: 'REFRESH_TOKEN_REUSE' } });
    expect(warning?.severity).toBe('WARNING');
  });
});

describe('revocation, introspection and dynamic registration with openid-client', () => {
  const REGISTRATION_TOKEN = 'registration-token-'.padEnd(48, 'x');
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', DYNAMIC_CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN });
  });
  afterAll(() => server.close());

  test('a client registered with the registration token works at once; revocation then introspection shows inactive', async () => {
    const config = await client.dynamicClientRegistration(
      new URL(server.url),
      { client_name: 'Registered Web App', redirect_uris: ['http://127.0.0.1:9/registered'], grant_types: ['authorization_code', 'refresh_token'], scope: 'openid profile offline_access' },
      undefined,
      { ...insecure, initialAccessToken: REGISTRATION_TOKEN },
    );
    const metadata = config.clientMetadata();
    expect(metadata.client_secret).toBeTruthy();
    const registered: TestClient = { clientId: metadata.client_id, clientSecret: metadata.client_secret as string, redirectUri: 'http://127.0.0.1:9/registered' };
    const { tokens } = await codeFlow(server, config, registered, new ScriptedBrowser(server.url), 'openid profile offline_access');

    const before = await client.tokenIntrospection(config, tokens.access_token);
    expect(before).toMatchObject({ active: true, client_id: registered.clientId, token_type: 'Bearer' });
    await client.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    // Revoking the refresh token takes the access tokens of its family with it.
    expect(await client.tokenIntrospection(config, tokens.access_token)).toEqual({ active: false });
    expect(await client.tokenIntrospection(config, tokens.refresh_token!)).toEqual({ active: false });
  });

  test('without the registration token the request is refused', async () => {
    await expect(
      client.dynamicClientRegistration(new URL(server.url), { redirect_uris: ['https://app.example.com/cb'] }, undefined, insecure),
    ).rejects.toMatchObject({ status: 401 });
  });
});

describe('open dynamic registration waits for an admin', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' });
  });
  afterAll(() => server.close());

  test('registered pending; no tokens until approved; then the client works', async () => {
    const config = await client.dynamicClientRegistration(
      new URL(server.url),
      { client_name: 'Service', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' },
      undefined,
      insecure,
    );
    // 401 invalid_client with a Basic challenge: the library surfaces it as a WWW-Authenticate challenge.
    await expect(client.clientCredentialsGrant(config)).rejects.toMatchObject({ status: 401, cause: [expect.objectContaining({ scheme: 'basic' })] });
    const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    await server.authgate.services.registration.approveClient(config.clientMetadata().client_id, admin, {});
    const tokens = await client.clientCredentialsGrant(config);
    expect(tokens.access_token).toBeTruthy();
  });
});
