// Sign in with GitHub Enterprise Server, Gitea, GitLab and a bare OpenID Connect provider, each against
// a stand-in started here at the configured URL that speaks the provider's documented endpoints and
// shapes: accounts created once, reused, linked only by a verified address, and every forged or broken
// answer refused with a page, nothing created, audited.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ScriptedBrowser, type Page } from '../helpers/browser.js';
import { signedInBrowser } from '../helpers/graphql.js';
import { startStandIn, type StandIn, type StandInUser } from '../helpers/provider-standin.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { hashPassword } from '../helpers/passwords.js';
import { createClient } from '../helpers/clients.js';
import { makeSelfSignedCertificate } from '../helpers/tls.js';
import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';

let server: TestServer;
const standIns: Record<'github' | 'gitea' | 'gitlab' | 'acme' | 'microsoft', StandIn> = {} as never;
let nextId = 1000;

beforeAll(async () => {
  standIns.github = await startStandIn('github');
  standIns.gitea = await startStandIn('gitea');
  standIns.gitlab = await startStandIn('gitlab');
  standIns.acme = await startStandIn('oidc');
  standIns.microsoft = await startStandIn('microsoft');
  server = await startTestServer({
    // GitHub Enterprise Server: web at GITHUB_URL, REST API at GITHUB_URL/api/v3 unless GITHUB_API_URL says otherwise.
    GITHUB_OAUTH_ENABLED: 'true',
    GITHUB_URL: standIns.github.url,
    GITHUB_CLIENT_ID: standIns.github.clientId,
    GITHUB_CLIENT_SECRET: standIns.github.clientSecret,
    GITEA_OAUTH_ENABLED: 'true',
    GITEA_URL: standIns.gitea.url,
    GITEA_CLIENT_ID: standIns.gitea.clientId,
    GITEA_CLIENT_SECRET: standIns.gitea.clientSecret,
    GITLAB_OAUTH_ENABLED: 'true',
    GITLAB_URL: standIns.gitlab.url,
    GITLAB_CLIENT_ID: standIns.gitlab.clientId,
    GITLAB_CLIENT_SECRET: standIns.gitlab.clientSecret,
    OIDC_PROVIDERS: 'acme',
    OIDC_ACME_ISSUER: standIns.acme.url,
    OIDC_ACME_CLIENT_ID: standIns.acme.clientId,
    OIDC_ACME_CLIENT_SECRET: standIns.acme.clientSecret,
    OIDC_ACME_DISPLAY_NAME: 'Acme SSO',
    // Entra ID, multi-tenant ("common"), with the authority pointed at the stand-in (as for a national cloud).
    MICROSOFT_OAUTH_ENABLED: 'true',
    MICROSOFT_AUTHORITY_URL: standIns.microsoft.url,
    MICROSOFT_CLIENT_ID: standIns.microsoft.clientId,
    MICROSOFT_CLIENT_SECRET: standIns.microsoft.clientSecret,
    OAUTH_TIMEOUT: '1s',
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all(Object.values(standIns).map((s) => s?.close()));
});

function person(overrides: Partial<StandInUser> = {}): StandInUser {
  const id = nextId++;
  return { id, login: `person${id}`, name: `Person ${id}`, email: `person${id}@example.test`, verified: true, ...overrides };
}

/** The whole redirect dance: start at AuthGate, "sign in" at the stand-in, come back to the callback. */
async function signInWith(browser: ScriptedBrowser, provider: keyof typeof standIns, opts: { redirect?: string; editCallback?: (url: URL) => void } = {}): Promise<{ page: Page; callback: string }> {
  const start = await browser.get(`/oauth/${provider}${opts.redirect ? `?redirect=${encodeURIComponent(opts.redirect)}` : ''}`);
  expect(start.status).toBe(302);
  expect(start.location!.startsWith(standIns[provider].url)).toBe(true);
  const authorize = await fetch(start.location!, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const back = new URL(authorize.headers.get('location')!);
  opts.editCallback?.(back);
  const callback = back.pathname + back.search;
  return { page: await browser.get(callback), callback };
}

const db = () => server.authgate.db;
const countUsers = () => db().user.count();
const countConnections = () => db().oAuthConnection.count();
async function audited(eventType: string, match: (details: Record<string, unknown>) => boolean): Promise<boolean> {
  await server.authgate.services.audit.flush();
  const rows = await db().auditEvent.findMany({ where: { eventType } });
  return rows.some((row) => match(JSON.parse(row.details ?? '{}') as Record<string, unknown>));
}

const FLOWS: [keyof typeof standIns, string][] = [
  ['github', 'user:email'],
  ['gitea', 'read:user'],
  ['gitlab', 'read_user'],
  ['acme', 'openid profile email'],
];
describe.each(FLOWS)('sign in with %s', (provider, scope) => {
  test('first sign-in creates the account (authSource = provider), returns to the saved page; the second reuses it', async () => {
    const someone = person();
    standIns[provider].signInAs = someone;
    const users = await countUsers();
    const browser = new ScriptedBrowser(server.url);
    const { page } = await signInWith(browser, provider, { redirect: '/account' });
    expect(page.status).toBe(302);
    expect(page.location).toBe('/account');
    // The redirect URI sent is exactly BASE_URL + the callback path, and the default scopes are AuthGate's.
    expect(standIns[provider].lastRedirectUri).toBe(`${server.url}/oauth/${provider}/callback`);
    expect(standIns[provider].lastScope).toBe(scope);
    expect(await countUsers()).toBe(users + 1);
    const user = await db().user.findFirstOrThrow({ where: { connections: { some: { provider, providerUserId: String(someone.id) } } }, include: { connections: true } });
    expect(user).toMatchObject({ username: someone.login, email: someone.email, emailVerified: true, authSource: provider, passwordHash: null, fullName: someone.name });
    expect(user.connections[0]).toMatchObject({ provider, email: someone.email });
    // Signed in: the account page renders for this person.
    const account = await browser.get('/account/sessions');
    expect(account.status).toBe(200);
    expect(account.html).toContain(someone.login);
    expect(await audited('USER_AUTO_REGISTERED', (d) => d.provider === provider && d.username === someone.login)).toBe(true);

    const again = await signInWith(new ScriptedBrowser(server.url), provider);
    expect(again.page.status).toBe(302);
    expect(again.page.location).toBe('/');
    expect(await countUsers()).toBe(users + 1);
    const connection = await db().oAuthConnection.findFirstOrThrow({ where: { provider, providerUserId: String(someone.id) } });
    expect(connection.userId).toBe(user.id);
    expect(connection.lastUsedAt!.getTime()).toBeGreaterThan(user.connections[0]!.lastUsedAt!.getTime() - 1);
  }, 30_000);

  test('a verified address links to the existing local account; an unverified one links and creates nothing', async () => {
    const local = await db().user.create({ data: { username: `local-${provider}`, email: `owner-${provider}@example.test`, passwordHash: 'x' } });
    const [users, connections] = [await countUsers(), await countConnections()];

    standIns[provider].signInAs = person({ email: local.email!, verified: false });
    const refused = await signInWith(new ScriptedBrowser(server.url), provider);
    expect(refused.page.status).toBe(409);
    expect(refused.page.html).toContain('not say the address is verified');
    expect(await countUsers()).toBe(users);
    expect(await countConnections()).toBe(connections);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === provider && d.reason === 'email_unverified')).toBe(true);

    const owner = person({ email: local.email!, verified: true });
    standIns[provider].signInAs = owner;
    const linked = await signInWith(new ScriptedBrowser(server.url), provider);
    expect(linked.page.status).toBe(302);
    expect(await countUsers()).toBe(users);
    const connection = await db().oAuthConnection.findFirstOrThrow({ where: { provider, providerUserId: String(owner.id) } });
    expect(connection.userId).toBe(local.id);
    expect(await audited('CONNECTION_LINKED', (d) => d.provider === provider && d.username === local.username && d.reason === 'verified_email')).toBe(true);
  }, 30_000);

  test('the provider answering with an error: a page, nothing created, audited', async () => {
    standIns[provider].signInAs = undefined; // the person clicks "Deny"
    const users = await countUsers();
    const { page } = await signInWith(new ScriptedBrowser(server.url), provider);
    expect(page.status).toBe(403);
    expect(page.html).toContain('You did not allow signing in');
    expect(await countUsers()).toBe(users);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === provider && d.reason === 'provider_error_access_denied')).toBe(true);
  }, 30_000);
});

describe('inside an OAuth authorization request', () => {
  test("a client's /oauth/authorize still works with providers configured; signing in through one comes back to it, then consent and a code", async () => {
    const app = await createClient(server, { type: 'public' });
    const authorize = `/oauth/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      scope: 'openid profile',
      state: 'client-state',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })}`;
    const browser = new ScriptedBrowser(server.url);
    const first = await browser.get(authorize);
    expect(first.status).toBe(302);
    const redirect = new URL(first.location!, server.url).searchParams.get('redirect')!;
    expect(redirect.startsWith('/oauth/authorize?')).toBe(true);
    const login = await browser.get(first.location!);
    expect(login.html).toContain('href="/oauth/gitea?redirect=');
    standIns.gitea.signInAs = person();
    const { page } = await signInWith(browser, 'gitea', { redirect });
    expect(page.location).toBe(redirect);
    const consent = await browser.get(redirect);
    expect(consent.status).toBe(200);
    expect(consent.html).toContain('Allow');
    const approved = await browser.submit(consent, '/oauth/authorize', { decision: 'approve' });
    expect(approved.status).toBe(302);
    const back = new URL(approved.location!);
    expect(back.origin + back.pathname).toBe(app.redirectUri);
    expect(back.searchParams.get('code')).toBeTruthy();
    expect(back.searchParams.get('state')).toBe('client-state');
  }, 30_000);
});

describe('sign in with Microsoft Entra ID (multi-tenant)', () => {
  test("the ID token's issuer is the person's own tenant; the address is not vouched for, so it links nothing", async () => {
    const someone = person({ verified: true });
    standIns.microsoft.signInAs = someone;
    const users = await countUsers();
    const { page } = await signInWith(new ScriptedBrowser(server.url), 'microsoft');
    expect(page.status).toBe(302);
    expect(standIns.microsoft.lastScope).toBe('openid profile email User.Read');
    expect(await countUsers()).toBe(users + 1);
    // Entra ID sends no email_verified: the account gets no address, and the ID token was enough (no UserInfo call).
    const user = await db().user.findFirstOrThrow({ where: { connections: { some: { provider: 'microsoft', providerUserId: String(someone.id) } } } });
    expect(user).toMatchObject({ authSource: 'microsoft', email: null, emailVerified: false, fullName: someone.name });
    expect(standIns.microsoft.requests).not.toContain('GET /oidc/userinfo');

    const local = await db().user.create({ data: { username: 'ms-local', email: 'ms-local@example.test', passwordHash: 'x' } });
    standIns.microsoft.signInAs = person({ email: local.email! });
    const refused = await signInWith(new ScriptedBrowser(server.url), 'microsoft');
    expect(refused.page.status).toBe(409);
    expect(await db().oAuthConnection.count({ where: { userId: local.id } })).toBe(0);
  }, 30_000);

  test('an ID token whose issuer names another tenant than its tid is refused', async () => {
    standIns.microsoft.signInAs = person();
    standIns.microsoft.tamper = { idToken: 'other_tenant_iss' };
    try {
      const users = await countUsers();
      const { page } = await signInWith(new ScriptedBrowser(server.url), 'microsoft');
      expect(page.status).toBe(502);
      expect(await countUsers()).toBe(users);
      expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'microsoft' && d.reason === 'id_token_bad_iss')).toBe(true);
    } finally {
      standIns.microsoft.tamper = {};
    }
  }, 30_000);
});

describe('forged and replayed callbacks', () => {
  test('a mismatched state is refused and spends the attempt: the real answer afterwards fails too', async () => {
    standIns.gitea.signInAs = person();
    const users = await countUsers();
    const browser = new ScriptedBrowser(server.url);
    let real = '';
    const forged = await signInWith(browser, 'gitea', {
      editCallback: (url) => {
        real = url.pathname + url.search;
        url.searchParams.set('state', 'forged-state');
      },
    });
    expect(forged.page.status).toBe(400);
    expect(forged.page.html).toContain('does not belong to your sign-in attempt');
    const after = await browser.get(real);
    expect(after.status).toBe(400);
    expect(await countUsers()).toBe(users);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'gitea' && d.reason === 'state_mismatch')).toBe(true);
  }, 30_000);

  test('a replayed callback fails, in the same browser and with the code carried to a new attempt', async () => {
    const someone = person();
    standIns.gitlab.signInAs = someone;
    const browser = new ScriptedBrowser(server.url);
    const first = await signInWith(browser, 'gitlab');
    expect(first.page.status).toBe(302);
    const users = await countUsers();
    // Same browser, same URL: the attempt is gone.
    const replay = await browser.get(first.callback);
    expect(replay.status).toBe(400);
    expect(replay.html).toContain('already been used');
    // An attacker's own fresh attempt (its own state) with the victim's code: the provider refuses the spent code.
    const attacker = new ScriptedBrowser(server.url);
    const start = await attacker.get('/oauth/gitlab');
    const state = new URL(start.location!).searchParams.get('state')!;
    const code = new URL(first.callback, server.url).searchParams.get('code')!;
    const stolen = await attacker.get(`/oauth/gitlab/callback?code=${code}&state=${state}`);
    expect(stolen.status).toBe(502);
    expect(await countUsers()).toBe(users);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'gitlab' && d.reason === 'no_pending_attempt')).toBe(true);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'gitlab' && typeof d.reason === 'string' && d.reason.startsWith('token_'))).toBe(true);
  }, 30_000);

  test("a callback without any attempt (another browser's link) is refused", async () => {
    const page = await new ScriptedBrowser(server.url).get('/oauth/github/callback?code=abc&state=def');
    expect(page.status).toBe(400);
    const unknown = await new ScriptedBrowser(server.url).get('/oauth/nosuch/callback?code=abc&state=def');
    expect(unknown.status).toBe(404);
  });

  test("AuthGate's /auth/callback/:provider finishes the same way", async () => {
    const someone = person();
    standIns.gitea.signInAs = someone;
    const { page } = await signInWith(new ScriptedBrowser(server.url), 'gitea', { editCallback: (url) => (url.pathname = '/auth/callback/gitea') });
    expect(page.status).toBe(302);
    expect(await db().oAuthConnection.count({ where: { provider: 'gitea', providerUserId: String(someone.id) } })).toBe(1);
  }, 30_000);
});

describe('races', () => {
  test('the same callback delivered twice at once signs in once', async () => {
    standIns.gitea.signInAs = person();
    const browser = new ScriptedBrowser(server.url);
    const start = await browser.get('/oauth/gitea');
    const authorize = await fetch(start.location!, { redirect: 'manual' });
    const back = new URL(authorize.headers.get('location')!);
    const users = await countUsers();
    const results = await Promise.all([browser.get(back.pathname + back.search), browser.get(back.pathname + back.search)]);
    expect(results.filter((r) => r.status === 302)).toHaveLength(1);
    expect(await countUsers()).toBe(users + 1);
  }, 30_000);

  test('two first sign-ins of the same person at once create one account and one link', async () => {
    const someone = person();
    standIns.gitlab.signInAs = someone;
    const users = await countUsers();
    const attempts = await Promise.all(
      [0, 1, 2].map(async () => {
        const browser = new ScriptedBrowser(server.url);
        const start = await browser.get('/oauth/gitlab');
        const authorize = await fetch(start.location!, { redirect: 'manual' });
        const back = new URL(authorize.headers.get('location')!);
        return { browser, callback: back.pathname + back.search };
      }),
    );
    const pages = await Promise.all(attempts.map(({ browser, callback }) => browser.get(callback)));
    expect(pages.map((p) => p.status)).toEqual([302, 302, 302]);
    expect(await countUsers()).toBe(users + 1);
    expect(await db().oAuthConnection.count({ where: { provider: 'gitlab', providerUserId: String(someone.id) } })).toBe(1);
  }, 30_000);
});

describe('bad answers from the provider', () => {
  test.each(['wrong_aud', 'wrong_iss', 'wrong_nonce', 'bad_signature', 'expired'] as const)('an ID token with %s is refused, nothing created', async (idToken) => {
    standIns.acme.signInAs = person();
    standIns.acme.tamper = { idToken };
    try {
      const users = await countUsers();
      const { page } = await signInWith(new ScriptedBrowser(server.url), 'acme');
      expect(page.status).toBe(502);
      expect(page.html).toMatch(/ID token/);
      expect(await countUsers()).toBe(users);
      expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'acme' && typeof d.reason === 'string' && d.reason.startsWith('id_token_'))).toBe(true);
    } finally {
      standIns.acme.tamper = {};
    }
  }, 30_000);

  test.each(['status_500', 'malformed', 'slow'] as const)('a user API that answers %s: a page, nothing created', async (userApi) => {
    standIns.github.signInAs = person();
    standIns.github.tamper = { userApi, slowMs: 3000 };
    try {
      const users = await countUsers();
      const started = Date.now();
      const { page } = await signInWith(new ScriptedBrowser(server.url), 'github');
      expect(page.status).toBe(502);
      // OAUTH_TIMEOUT=1s bounds the wait.
      if (userApi === 'slow') {
        expect(Date.now() - started).toBeLessThan(2500);
        expect(page.html).toContain('did not answer in time');
      }
      expect(await countUsers()).toBe(users);
      const reason = { status_500: 'user_api_http_500', malformed: 'user_api_malformed', slow: 'timeout' }[userApi];
      expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'github' && d.reason === reason)).toBe(true);
    } finally {
      standIns.github.tamper = {};
    }
  }, 30_000);
});

describe('accounts', () => {
  test('a disabled user cannot sign in through a provider', async () => {
    const someone = person();
    standIns.gitea.signInAs = someone;
    expect((await signInWith(new ScriptedBrowser(server.url), 'gitea')).page.status).toBe(302);
    await db().user.updateMany({ where: { username: someone.login }, data: { active: false } });
    const browser = new ScriptedBrowser(server.url);
    const { page } = await signInWith(browser, 'gitea');
    expect(page.status).toBe(403);
    expect(page.html).toContain('disabled');
    expect(browser.cookieNames().length === 0 || (await browser.get('/account')).status === 302).toBe(true);
    expect(await audited('AUTHENTICATION_FAILURE', (d) => d.provider === 'gitea' && d.reason === 'user_disabled')).toBe(true);
  }, 30_000);

  test('a signed-in person signing in with a provider links it to their own account', async () => {
    const browser = await signedInBrowser(server);
    const admin = await db().user.findUniqueOrThrow({ where: { username: 'admin' } });
    const someone = person({ email: 'unrelated@example.test', verified: false });
    standIns.gitlab.signInAs = someone;
    const users = await countUsers();
    const { page } = await signInWith(browser, 'gitlab', { redirect: '/account' });
    expect(page.status).toBe(302);
    expect(page.location).toBe('/account');
    expect(await countUsers()).toBe(users);
    const connection = await db().oAuthConnection.findFirstOrThrow({ where: { provider: 'gitlab', providerUserId: String(someone.id) } });
    expect(connection.userId).toBe(admin.id);
    expect(await audited('CONNECTION_LINKED', (d) => d.provider === 'gitlab' && d.username === 'admin' && d.reason === 'signed_in')).toBe(true);
    // The same provider identity cannot then be linked to a second account.
    await db().user.create({ data: { username: 'second-person', passwordHash: await hashPassword('second-password') } });
    const second = await signedInBrowser(server, 'second-person', 'second-password');
    const stolen = await signInWith(second, 'gitlab');
    expect(stolen.page.status).toBe(409);
    expect(stolen.page.html).toContain('already linked to another account');
    expect((await db().oAuthConnection.findFirstOrThrow({ where: { provider: 'gitlab', providerUserId: String(someone.id) } })).userId).toBe(admin.id);
  }, 30_000);

  test('what a provider says is cleaned before it is stored: control characters dropped, an address that is not one ignored', async () => {
    const someone = person({ login: 'odd\u0000one', name: 'Odd\u0000 Name\n\u001b[31m', email: 'not an address', verified: true });
    standIns.gitea.signInAs = someone;
    const { page } = await signInWith(new ScriptedBrowser(server.url), 'gitea');
    expect(page.status).toBe(302);
    const user = await db().user.findFirstOrThrow({ where: { connections: { some: { provider: 'gitea', providerUserId: String(someone.id) } } } });
    expect(user).toMatchObject({ username: 'oddone', fullName: 'Odd Name[31m', email: null, emailVerified: false });
  }, 30_000);

  test('with OAUTH_AUTO_REGISTER=false a newcomer is told to ask an administrator; nothing is created', async () => {
    const gitea = await startStandIn('gitea');
    const strict = await startStartStrict(gitea);
    try {
      gitea.signInAs = person();
      const users = await strict.authgate.db.user.count();
      const browser = new ScriptedBrowser(strict.url);
      const start = await browser.get('/oauth/gitea');
      const authorize = await fetch(start.location!, { redirect: 'manual' });
      const back = new URL(authorize.headers.get('location')!);
      const page = await browser.get(back.pathname + back.search);
      expect(page.status).toBe(403);
      expect(page.html).toContain('Ask an administrator');
      expect(await strict.authgate.db.user.count()).toBe(users);
      expect(await strict.authgate.db.oAuthConnection.count()).toBe(0);
    } finally {
      await strict.close();
      await gitea.close();
    }
  }, 60_000);
});

describe('TLS to the provider', () => {
  test('a provider with a certificate nobody trusts is refused; OAUTH_INSECURE_SKIP_VERIFY=true (development only) accepts it', async () => {
    const cert = makeSelfSignedCertificate();
    const tlsIdp = await startStandIn('oidc', { tls: { cert: cert.cert, key: readFileSync(cert.keyFile, 'utf8') } });
    const env = (skip: string) => ({
      OIDC_PROVIDERS: 'tlsidp',
      OIDC_TLSIDP_ISSUER: tlsIdp.url,
      OIDC_TLSIDP_CLIENT_ID: tlsIdp.clientId,
      OIDC_TLSIDP_CLIENT_SECRET: tlsIdp.clientSecret,
      OAUTH_INSECURE_SKIP_VERIFY: skip,
    });
    const strict = await startTestServer(env('false'));
    const lax = await startTestServer(env('true'));
    try {
      tlsIdp.signInAs = person();
      // Checked: discovery fails at the start, nothing is sent further.
      const refused = await new ScriptedBrowser(strict.url).get('/oauth/tlsidp');
      expect(refused.status).toBe(502);
      expect(refused.html).toContain('could not be reached');
      const browser = new ScriptedBrowser(lax.url);
      const start = await browser.get('/oauth/tlsidp');
      expect(start.status).toBe(302);
      // The test's own requests do not trust the certificate either: the person's "browser" skips the check too.
      const back = new URL(await insecureLocation(start.location!));
      const page = await browser.get(back.pathname + back.search);
      expect(page.status).toBe(302);
      expect(await lax.authgate.db.oAuthConnection.count({ where: { provider: 'tlsidp' } })).toBe(1);
    } finally {
      await strict.close();
      await lax.close();
      await tlsIdp.close();
    }
  }, 60_000);
});

function insecureLocation(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.headers.location ?? '');
    }).on('error', reject);
  });
}

function startStartStrict(gitea: StandIn): Promise<TestServer> {
  return startTestServer({
    GITEA_OAUTH_ENABLED: 'true',
    GITEA_URL: gitea.url,
    GITEA_CLIENT_ID: gitea.clientId,
    GITEA_CLIENT_SECRET: gitea.clientSecret,
    OAUTH_AUTO_REGISTER: 'false',
  });
}
