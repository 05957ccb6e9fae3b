// Every page the server renders, found from the page router itself (so a new page is covered without
// editing this test): screenshots at desktop (1280 px) and phone (390 px) width under test/artifacts/,
// and a failure on any console error (CSP violations included), horizontal overflow, or a row of
// controls of uneven heights (a filter row; the user page's role form) or with a second primary button.
import type Router from '@koa/router';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/ops/logger.js';
import { webRouter } from '../../src/web/router.js';
import { launchChromium, screenshotBoth, signIn, watchedContext } from '../helpers/chromium.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

// GET routes that are not pages: files, downloads, images, and what only redirects.
// Sign in with a provider: redirects to and from a provider (none is configured here), tested in provider-sign-in.test.ts.
const NOT_PAGES = [/^\/static\//, /^\/admin\/audit\/export$/, /^\/device\/qr$/, /^\/account$/, /^\/oauth\/:provider/, /^\/auth\/callback\//];
// Pages a signed-in person is sent away from, shown signed out instead.
const SIGNED_OUT = new Set(['/login']);

function pageRoutes(): string[] {
  const config = loadConfig({ DATA_DIR: '/nonexistent', BASE_URL: 'http://127.0.0.1:1', JWT_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40) });
  const router: Router = webRouter({ services: {} as never, render: (() => undefined) as never, config, logger: createLogger('silent'), gql: {} as never });
  const paths = router.stack.filter((layer) => layer.methods.includes('GET')).map((layer) => layer.path as string);
  return [...new Set(paths)].filter((path) => !NOT_PAGES.some((re) => re.test(path)));
}

let server: TestServer;
let browser: Browser;
const ids: Record<string, string> = {};

async function graphql<T>(page: Page, query: string): Promise<T> {
  const body = await page.evaluate(async (q) => {
    const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
    return res.json();
  }, query);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').split(':').slice(1).join(':');

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
  // Something on every page: a second user, a client, tokens and an authorization from a device flow, audit events.
  const device = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'profile read offline_access' });
  const { context } = await watchedContext(browser);
  const page = await context.newPage();
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  await page.goto(device.json.verification_uri_complete as string);
  await page.locator('main button[type=submit]').click();
  await page.click('button[value=approve]');
  await page.getByRole('heading', { name: 'Device connected' }).waitFor();
  await postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: device.json.device_code as string, client_id: server.cliClientId });
  const data = await graphql<{ createUser: { user: { id: string } }; createClient: { client: { id: string; clientId: string } } }>(
    page,
    'mutation { createUser(input: { username: "bea", fullName: "Bea Example", email: "bea@example.com" }) { user { id } } createClient(input: { name: "Example Web App", clientType: PUBLIC, enableAuthCodeFlow: true, redirectUris: ["https://app.example.com/callback"] }) { client { id clientId } } }',
  );
  ids.user = rawId(data.createUser.user.id);
  ids.client = rawId(data.createClient.client.id);
  ids.clientId = data.createClient.client.clientId;
  const mine = await graphql<{ viewer: { authorizations: { edges: { node: { id: string } }[] } } }>(page, '{ viewer { authorizations(first: 1) { edges { node { id } } } } }');
  ids.authorization = rawId(mine.viewer.authorizations.edges[0]!.node.id);
  await context.close();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
}, 180_000);

/**
 * Controls a person using a screen reader or only a keyboard could not use: a form control without a
 * label (or aria-label), a button or link without a name, or anything taken out of the tab order.
 */
async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    const describe = (el: Element) => el.outerHTML.slice(0, 100);
    for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
      const input = el as HTMLInputElement;
      if (input.type === 'hidden') continue;
      const named = (input.labels && input.labels.length > 0) || input.getAttribute('aria-label') || input.getAttribute('aria-labelledby');
      if (!named) bad.push(describe(el));
    }
    for (const el of Array.from(document.querySelectorAll('button, a[href]'))) {
      const name = (el.textContent ?? '').trim() || el.getAttribute('aria-label') || el.getAttribute('title');
      if (!name) bad.push(describe(el));
    }
    for (const el of Array.from(document.querySelectorAll('[tabindex]'))) {
      if (Number(el.getAttribute('tabindex')) < 0 && el.matches('a[href], button, input, select, textarea')) bad.push(describe(el));
    }
    return bad;
  });
}

/**
 * Filter rows whose one-line controls are not all of one height (their labels then sit at different
 * heights above a row whose controls line up at the bottom: a select's text box ignores the line height
 * a text input inherits), or whose Filter button is a second primary button on the page; and a compact
 * inline form whose select and button differ in height.
 */
async function unevenFilterRows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const form of Array.from(document.querySelectorAll('form.filters'))) {
      const controls = Array.from(form.querySelectorAll('input[type=text], input[type=search], select:not([multiple])'));
      const heights = controls.map((el) => Math.round(el.getBoundingClientRect().height));
      if (new Set(heights).size > 1) bad.push(`${form.getAttribute('aria-label') ?? 'a filter form'}: controls ${heights.join(', ')} px high`);
      // One primary action a page: beside a primary "New …" in the page head, Filter is a secondary button.
      const headPrimary = document.querySelector('.page-head .button:not(.secondary), .page-head button:not(.secondary)');
      const filterPrimary = form.querySelector('button[type=submit]:not(.secondary)');
      if (headPrimary && filterPrimary) bad.push(`${form.getAttribute('aria-label') ?? 'a filter form'}: a second primary button beside "${headPrimary.textContent?.trim()}"`);
    }
    // A compact inline form (the user page's role change): its select as high as its button.
    for (const form of Array.from(document.querySelectorAll('form.role-form'))) {
      const select = form.querySelector('select');
      const button = form.querySelector('button');
      if (!select || !button) continue;
      const [s, b] = [select, button].map((el) => Math.round(el.getBoundingClientRect().height));
      if (Math.abs(s! - b!) > 4) bad.push(`role form: select ${s} px high beside a ${b} px button`);
    }
    return bad;
  });
}

/** An authorization request of the public web client created above: its consent page. */
function authorizeRequest(): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: ids.clientId!,
    redirect_uri: 'https://app.example.com/callback',
    scope: 'openid profile',
    state: 'page-check',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  return `/oauth/authorize?${query}`;
}

/** A route's path with its parameters filled in from what beforeAll created. */
function concrete(path: string): string {
  const kind = path.startsWith('/admin/clients') ? 'client' : path.startsWith('/account/authorizations') ? 'authorization' : 'user';
  return path.replace(/:[A-Za-z_]+/g, () => ids[kind]!);
}

test('the router has the pages the issue lists', () => {
  const routes = pageRoutes();
  for (const path of ['/account/sessions', '/account/authorizations', '/admin', '/admin/users', '/admin/clients', '/admin/tokens', '/admin/audit']) {
    expect(routes).toContain(path);
  }
}, 180_000);

test('every page renders without console errors, without horizontal overflow at 1280 and 390 px, and with rows of controls of one height and no second primary button', async () => {
  const results: string[] = [];
  const signedIn = await watchedContext(browser);
  const signedOut = await watchedContext(browser);
  const adminPage = await signedIn.context.newPage();
  await signIn(adminPage, server.url, 'admin', ADMIN_PASSWORD);
  const anonymous = await signedOut.context.newPage();
  for (const route of pageRoutes()) {
    const page = SIGNED_OUT.has(route) ? anonymous : adminPage;
    const path = route === '/oauth/authorize' ? authorizeRequest() : concrete(route);
    const response = await page.goto(`${server.url}${path}`);
    const status = response?.status() ?? 0;
    const name = (route === '/' ? 'home' : route.slice(1)).replace(/[/:]+/g, '-');
    const overflow = await screenshotBoth(page, `page-${name}`);
    if (status >= 400) results.push(`${path}: HTTP ${status}`);
    if (overflow.desktop > 0 || overflow.phone > 0) results.push(`${path}: overflows by ${overflow.desktop} px (desktop) / ${overflow.phone} px (phone)`);
    for (const control of await unlabelledControls(page)) results.push(`${path}: ${control} has no accessible name or is kept out of the keyboard order`);
    for (const row of await unevenFilterRows(page)) results.push(`${path}: ${row}`);
  }
  await signedIn.context.close();
  await signedOut.context.close();
  expect(results).toEqual([]);
  expect([...signedIn.errors, ...signedOut.errors]).toEqual([]);
}, 180_000);
