// Sign in with a provider in real Chromium. The upstream identity provider is node-oidc-provider, started
// here as a real OpenID Connect provider (discovery, JWKS, PKCE, login and consent pages): a person clicks
// the button on our login page, signs in there, consents, and lands back here signed in. Forged and
// replayed callbacks create or link nothing. The login page shows one button per enabled provider.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Provider from 'oidc-provider';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { findForm, ScriptedBrowser } from '../helpers/browser.js';
import { launchChromium, screenshotBoth, watchedContext } from '../helpers/chromium.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

interface Person {
  email: string;
  email_verified: boolean;
  name: string;
}
// The upstream provider's accounts: the login typed on its dev login page is the account id.
const PEOPLE: Record<string, Person> = {
  alice: { email: 'alice@example.test', email_verified: true, name: 'Alice Upstream' },
  mallory: { email: 'victim@example.test', email_verified: false, name: 'Mallory' },
  bob: { email: 'bob@example.test', email_verified: true, name: 'Bob Upstream' },
};

let server: TestServer;
let idp: Server;
let idpUrl: string;
let browser: Browser;

beforeAll(async () => {
  // The provider's port first: AuthGate needs the issuer, the provider needs AuthGate's callback.
  const idpPort = await freePort();
  idpUrl = `http://127.0.0.1:${idpPort}`;
  server = await startTestServer({
    OIDC_PROVIDERS: 'idp,other',
    OIDC_IDP_ISSUER: idpUrl,
    OIDC_IDP_CLIENT_ID: 'authgate',
    OIDC_IDP_CLIENT_SECRET: 'upstream-client-secret-for-tests',
    OIDC_IDP_DISPLAY_NAME: 'Example IdP',
    // A second provider for the login page's buttons (never contacted).
    OIDC_OTHER_ISSUER: 'https://other-idp.example',
    OIDC_OTHER_CLIENT_ID: 'x',
    OIDC_OTHER_CLIENT_SECRET: 'y',
    OIDC_OTHER_DISPLAY_NAME: 'Other Company SSO',
    GITHUB_OAUTH_ENABLED: 'true',
    GITHUB_CLIENT_ID: 'gh',
    GITHUB_CLIENT_SECRET: 'gh-secret',
  });
  const provider = new Provider(idpUrl, {
    clients: [
      {
        client_id: 'authgate',
        client_secret: 'upstream-client-secret-for-tests',
        redirect_uris: [`${server.url}/oauth/idp/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    async findAccount(_ctx, id) {
      const person = PEOPLE[id];
      if (!person) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, ...person }) };
    },
    cookies: { keys: ['upstream-cookie-key-for-tests-0123456789'] },
    features: { devInteractions: { enabled: true } },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  idp = provider.listen(idpPort, '127.0.0.1') as unknown as Server;
  await new Promise((resolve) => (idp.listening ? resolve(undefined) : idp.once('listening', resolve)));
  expect((idp.address() as AddressInfo).port).toBe(idpPort);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  idp?.closeAllConnections();
  await new Promise((resolve) => (idp ? idp.close(resolve) : resolve(undefined)));
  await server?.close();
});

const db = () => server.authgate.db;
const ours = (errors: string[]) => errors.filter((e) => e.startsWith(server.url));

/** At the upstream provider: its login page, then its consent page. */
async function upstreamSignIn(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.origin === idpUrl);
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin !== idpUrl || url.pathname.includes('/interaction/'));
  if (new URL(page.url()).origin === idpUrl) {
    // Consent (first time for this account in this browser).
    await page.click('button[type=submit]');
  }
}

/**
 * The same upstream sign-in over plain HTTP (the provider's login and consent forms), stopping at the
 * provider's redirect back to us: returns that callback URL without delivering it.
 */
async function scriptedUpstreamSignIn(b: ScriptedBrowser, login: string): Promise<string> {
  let res = await b.get('/oauth/idp');
  for (let step = 0; step < 15; step++) {
    if (res.location) {
      const next = new URL(res.location, res.url);
      if (next.href.startsWith(`${server.url}/oauth/idp/callback`)) return next.href;
      res = await b.get(next.href);
      continue;
    }
    const action = /<form\b[^>]*action="([^"]+)"/.exec(res.html)?.[1]?.replace(/&amp;/g, '&');
    if (!action) throw new Error(`no form at ${res.url}: ${res.status} ${res.html.slice(0, 500)}`);
    const form = findForm(res.html, action);
    const fields: Record<string, string> = res.html.includes('name="login"') ? { login, password: 'anything' } : {};
    res = await b.post(new URL(form.action, res.url).href, { ...form.hidden, ...fields });
  }
  throw new Error('the upstream sign-in did not come back');
}

async function freshPage(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { context, errors } = await watchedContext(browser);
  return { context, page: await context.newPage(), errors };
}

describe('sign in with a generic OpenID Connect provider (node-oidc-provider)', () => {
  test('the login page shows a button per enabled provider, no console errors', async () => {
    const { context, page, errors } = await freshPage();
    try {
      await page.goto(`${server.url}/login?redirect=/account/sessions`);
      const buttons = page.locator('.providers a.provider');
      expect(await buttons.allTextContents()).toEqual(['Sign in with GitHub', 'Sign in with Example IdP', 'Sign in with Other Company SSO']);
      expect(await buttons.nth(1).getAttribute('href')).toBe('/oauth/idp?redirect=%2Faccount%2Fsessions');
      const overflow = await screenshotBoth(page, 'login-with-providers');
      expect(overflow).toEqual({ desktop: 0, phone: 0 });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  test('a person signs in through the full redirect: the account is created; a second sign-in reuses it', async () => {
    const users = await db().user.count();
    const { context, page, errors } = await freshPage();
    try {
      await page.goto(`${server.url}/login?redirect=/account/sessions`);
      await page.click('a.provider[data-provider=idp]');
      await upstreamSignIn(page, 'alice');
      await page.waitForURL(`${server.url}/account/sessions`);
      expect(await page.textContent('body')).toContain('alice');
      expect(ours(errors)).toEqual([]);
    } finally {
      await context.close();
    }
    expect(await db().user.count()).toBe(users + 1);
    const alice = await db().user.findUniqueOrThrow({ where: { username: 'alice' }, include: { connections: true } });
    expect(alice).toMatchObject({ email: 'alice@example.test', emailVerified: true, authSource: 'idp', fullName: 'Alice Upstream' });
    expect(alice.connections).toEqual([expect.objectContaining({ provider: 'idp', providerUserId: 'alice', email: 'alice@example.test' })]);

    // Another browser, signing in again: the same account.
    const second = await freshPage();
    try {
      await second.page.goto(`${server.url}/oauth/idp`);
      await upstreamSignIn(second.page, 'alice');
      await second.page.waitForURL(`${server.url}/`);
      expect(ours(second.errors)).toEqual([]);
    } finally {
      await second.context.close();
    }
    expect(await db().user.count()).toBe(users + 1);
    expect(await db().oAuthConnection.count({ where: { provider: 'idp' } })).toBe(1);
  }, 90_000);

  test('forged state and a replayed code create nothing; the code does not work in an attempt of its own', async () => {
    const users = await db().user.count();
    const connections = await db().oAuthConnection.count();
    // The provider's answer held instead of delivered, as by someone who saw it.
    const victim = new ScriptedBrowser(server.url);
    const callback = await scriptedUpstreamSignIn(victim, 'bob');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state-value');
    const wrongState = await victim.get(forged.href);
    expect(wrongState.status).toBe(400);
    expect(wrongState.html).toContain('does not belong to your sign-in attempt');
    // The real answer now: the attempt was spent by the forged one.
    const replay = await victim.get(callback);
    expect(replay.status).toBe(400);
    // The code carried into an attempt of one's own (its own state, PKCE verifier and nonce): the provider refuses it.
    const attacker = new ScriptedBrowser(server.url);
    const start = await attacker.get('/oauth/idp');
    const state = new URL(start.location!).searchParams.get('state')!;
    const stolen = await attacker.get(`/oauth/idp/callback?code=${encodeURIComponent(new URL(callback).searchParams.get('code')!)}&state=${state}`);
    expect(stolen.status).toBe(502);
    expect(await db().user.count()).toBe(users);
    expect(await db().oAuthConnection.count()).toBe(connections);
    expect(await db().user.findUnique({ where: { username: 'bob' } })).toBeNull();
  }, 90_000);

  test('a replayed callback after a successful sign-in fails', async () => {
    const { context, page } = await freshPage();
    try {
      let callback = '';
      page.on('request', (req) => {
        if (req.url().startsWith(`${server.url}/oauth/idp/callback`)) callback = req.url();
      });
      await page.goto(`${server.url}/oauth/idp`);
      await upstreamSignIn(page, 'alice');
      await page.waitForURL(`${server.url}/`);
      const users = await db().user.count();
      const replay = await page.goto(callback);
      expect(replay!.status()).toBe(400);
      expect(await page.textContent('main')).toContain('already been used');
      expect(await db().user.count()).toBe(users);
    } finally {
      await context.close();
    }
  }, 90_000);

  test("an unverified address matching a local account links nothing and creates nothing", async () => {
    const victim = await db().user.create({ data: { username: 'victim', email: 'victim@example.test', passwordHash: 'x' } });
    const [users, connections] = [await db().user.count(), await db().oAuthConnection.count()];
    const { context, page, errors } = await freshPage();
    try {
      await page.goto(`${server.url}/oauth/idp`);
      await upstreamSignIn(page, 'mallory');
      await page.waitForURL((url) => url.href.startsWith(`${server.url}/oauth/idp/callback`));
      expect(await page.textContent('main')).toContain('does not say the address is verified');
      await screenshotBoth(page, 'provider-sign-in-refused');
      expect(ours(errors).filter((e) => !e.includes('409'))).toEqual([]);
      // Not signed in as the victim.
      await page.goto(`${server.url}/account/sessions`);
      expect(new URL(page.url()).pathname).toBe('/login');
    } finally {
      await context.close();
    }
    expect(await db().user.count()).toBe(users);
    expect(await db().oAuthConnection.count()).toBe(connections);
    expect(await db().oAuthConnection.count({ where: { userId: victim.id } })).toBe(0);
    await server.authgate.services.audit.flush();
    const failures = await db().auditEvent.findMany({ where: { eventType: 'AUTHENTICATION_FAILURE' } });
    expect(failures.some((row) => JSON.parse(row.details ?? '{}').reason === 'email_unverified')).toBe(true);
  }, 90_000);
});
