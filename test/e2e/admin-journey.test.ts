// The issue's acceptance journey, in Debian's Chromium driven by playwright-core: an admin sets up a
// client and a user from the pages, the user connects a device in a second browser, the admin watches
// it happen (live audit view, tokens), the user withdraws the app, the admin disables the user and
// exports the audit log; a pending self-registered client is approved from the clients page.
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, signIn, watchedContext } from '../helpers/chromium.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
}, 120_000);

async function newContext(): Promise<BrowserContext> {
  const { context, errors } = await watchedContext(browser);
  context.on('close', () => consoleErrors.push(...errors));
  return context;
}

/** What the signed-in page's own GraphQL API says (the test reads ids the way a page script would). */
async function graphql<T>(page: Page, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const body = await page.evaluate(
    async ([q, v]) => {
      const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q, variables: v }) });
      return res.json();
    },
    [query, variables] as const,
  );
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

async function shownOnce(page: Page): Promise<string> {
  const value = await page.locator('.secret input').first().inputValue();
  expect(value.length).toBeGreaterThan(8);
  await page.reload();
  expect(await page.locator('.secret').count()).toBe(0); // once: gone after a reload
  return value;
}

test('admin and user journey through the pages', async () => {
  const adminContext = await newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, server.url, 'admin', ADMIN_PASSWORD);

  // The admin creates a confidential device-flow client: the secret is shown once.
  await admin.goto(`${server.url}/admin/clients/new`);
  await admin.fill('#f-name', 'Living Room TV');
  await admin.selectOption('#f-clientType', 'CONFIDENTIAL');
  await admin.check('#f-enableDeviceFlow');
  await admin.check('#scope-read');
  await Promise.all([admin.waitForURL(/\/admin\/clients\/[^/]+$/), admin.locator('main form:has(#f-name) button[type=submit]').click()]);
  const clientSecret = await shownOnce(admin);
  const { clients } = await graphql<{ clients: { edges: { node: { clientId: string } }[] } }>(
    admin,
    'query { clients(filter: { search: "Living Room TV" }, first: 1) { edges { node { clientId } } } }',
  );
  const clientId = clients.edges[0]!.node.clientId;

  // … and a user, whose generated password is shown once.
  await admin.goto(`${server.url}/admin/users/new`);
  await admin.fill('#f-username', 'alice');
  await admin.fill('#f-fullName', 'Alice Example');
  await Promise.all([admin.waitForURL(/\/admin\/users\/[^/]+$/), admin.locator('main form:has(#f-username) button[type=submit]').click()]);
  const alicePassword = await shownOnce(admin);
  const aliceUrl = admin.url();

  // The admin watches the audit log live.
  const audit = await adminContext.newPage();
  await audit.goto(`${server.url}/admin/audit`);
  await audit.getByText(/live/i).first().waitFor();
  expect(await audit.getByText('DEVICE_CODE_AUTHORIZED').count()).toBe(0);

  // The user runs a device flow in a second browser and approves it.
  const device = await postForm(`${server.url}/oauth/device/code`, { scope: 'profile read' }, basic(clientId, clientSecret));
  expect(device.status).toBe(200);
  const userContext = await newContext();
  const user = await userContext.newPage();
  await signIn(user, server.url, 'alice', alicePassword);
  await user.goto(device.json.verification_uri_complete as string);
  await user.locator('main button[type=submit]').click();
  await user.click('button[value=approve]');
  await user.getByRole('heading', { name: 'Device connected' }).waitFor();
  const tokens = await postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: device.json.device_code as string }, basic(clientId, clientSecret));
  expect(tokens.status).toBe(200);
  const accessToken = tokens.json.access_token as string;

  // The live view receives the approval without a reload.
  await audit.getByText('DEVICE_CODE_AUTHORIZED').first().waitFor({ timeout: 15_000 });

  // The admin sees the token.
  await admin.goto(`${server.url}/admin/tokens`);
  await admin.locator('main table').getByText('alice').first().waitFor();
  await admin.locator('main table').getByText('Living Room TV').first().waitFor();

  // The user withdraws the app; its token stops working at introspection.
  const introspect = () => postForm(`${server.url}/oauth/introspect`, { token: accessToken }, basic(clientId, clientSecret));
  expect((await introspect()).json.active).toBe(true);
  await user.goto(`${server.url}/account/authorizations`);
  // Revoking asks first, on a page of its own (so it works without script too).
  await Promise.all([user.waitForURL(/\/revoke$/), user.getByRole('link', { name: /revoke living room tv/i }).click()]);
  await Promise.all([user.waitForURL(/\/account\/authorizations$/), user.locator('main form button[type=submit]').click()]);
  expect((await introspect()).json.active).toBe(false);

  // The admin disables the user; the user's session ends at their next request.
  await admin.goto(aliceUrl);
  await Promise.all([admin.waitForURL(aliceUrl), admin.getByRole('button', { name: /^disable/i }).click()]);
  await admin.getByText(/disabled/i).first().waitFor();
  await user.goto(`${server.url}/account/sessions`);
  expect(new URL(user.url()).pathname).toBe('/login');

  // The admin exports the audit log as CSV.
  await admin.goto(`${server.url}/admin/audit`);
  const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByRole('link', { name: /csv/i }).click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  expect(csv.split('\n')[0]).toMatch(/event_type|eventType/i);
  expect(csv).toContain('DEVICE_CODE_AUTHORIZED');
  expect(csv).toContain('USER_DISABLED');

  await userContext.close();
  await adminContext.close();
  expect(consoleErrors).toEqual([]);
}, 120_000);

test('a pending self-registered client is approved from the clients page and can then obtain tokens', async () => {
  const registered = await fetch(`${server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Nightly Report Job', grant_types: ['client_credentials'], scope: 'profile' }),
  });
  expect(registered.status).toBe(201);
  const { client_id: id, client_secret: secret } = (await registered.json()) as { client_id: string; client_secret: string };
  const token = () => postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile' }, basic(id, secret));
  expect((await token()).status).toBe(401); // pending: it cannot authenticate yet

  const context = await newContext();
  const admin = await context.newPage();
  await signIn(admin, server.url, 'admin', ADMIN_PASSWORD);
  await admin.goto(`${server.url}/admin/clients`);
  // Pending registrations come first.
  const firstRow = admin.locator('main tbody tr').first();
  await firstRow.getByText('Nightly Report Job').waitFor();
  await Promise.all([admin.waitForURL(/\/admin\/clients/), firstRow.getByRole('button', { name: /approve/i }).click()]);
  await admin.waitForLoadState('load');

  const answer = await token();
  expect(answer.status).toBe(200);
  expect(answer.json.access_token).toEqual(expect.any(String));
  await context.close();
  expect(consoleErrors).toEqual([]);
}, 120_000);
