// The admin clients pages in Debian's Chromium: an admin approves a pending self-registration from
// the list (and the client can then obtain tokens), creates a client (secret shown once, working),
// edits it, rotates its secret, sees and revokes a user's authorization, and deletes a client after its
// confirmation page. Every page is screenshotted at desktop and phone width (test/artifacts/), with
// no horizontal overflow and no console errors.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshotBoth, signIn, watchedContext } from '../helpers/chromium.js';
import { clientCredentialsToken, deviceFlowToken } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let errors: string[];
let page: Page;

beforeAll(async () => {
  server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' });
  browser = await launchChromium();
  ({ context, errors } = await watchedContext(browser));
  page = await context.newPage();
  await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
});
afterEach(() => {
  expect(errors).toEqual([]);
});

async function expectNoOverflow(name: string): Promise<void> {
  expect(await screenshotBoth(page, name)).toEqual({ desktop: 0, phone: 0 });
}

/** The secret shown once under `label` on the current page. */
async function shownSecret(label: string): Promise<string> {
  return page.getByLabel(label, { exact: true }).inputValue();
}

let registered: { clientId: string; rawId: string };
let created: { clientId: string; secret: string; rawId: string };

test('the list shows a pending registration first; approving it lets the client obtain tokens', async () => {
  const res = await fetch(`${server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Kiosk (self-registered)', grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none', scope: 'openid profile' }),
  });
  const clientId = ((await res.json()) as { client_id: string }).client_id;
  const startDevice = () => postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: 'openid' });
  expect((await startDevice()).status).toBe(401);

  await page.goto(`${server.url}/admin/clients`);
  const waiting = page.locator('section.pending');
  await waiting.getByRole('heading', { name: /Waiting for approval/ }).waitFor();
  const row = waiting.locator('tr', { hasText: clientId });
  const href = (await row.getByRole('link', { name: 'Kiosk (self-registered)' }).getAttribute('href'))!;
  registered = { clientId, rawId: href.split('/').pop()! };
  await expectNoOverflow('admin-clients');

  await Promise.all([page.waitForURL(/\/admin\/clients$/), row.getByRole('button', { name: 'Approve' }).click()]);
  await page.getByText('“Kiosk (self-registered)” approved').waitFor();
  expect(await page.locator('section.pending').count()).toBe(0);
  expect((await startDevice()).status).toBe(200);
});

test('create a client: the secret is shown once and works', async () => {
  await page.goto(`${server.url}/admin/clients`);
  await Promise.all([page.waitForURL(/\/admin\/clients\/new$/), page.getByRole('link', { name: 'New client' }).click()]);
  await page.locator('#f-name').fill('Reporting service');
  await page.getByLabel('Description').fill('Builds the weekly reports');
  await page.getByLabel('Client type').selectOption('CONFIDENTIAL');
  await page.getByLabel('Redirect URIs').fill('https://reports.example.com/callback https://reports.example.com/alt');
  await page.locator('#scope-read').check();
  await page.locator('#scope-write').check();
  await page.getByLabel(/Client credentials/).check();
  await expectNoOverflow('admin-clients-new');
  await Promise.all([page.waitForURL(/\/admin\/clients\/[0-9a-f-]+$/), page.getByRole('button', { name: 'Create client' }).click()]);
  await page.getByText('Client “Reporting service” created.').waitFor();
  const secret = await shownSecret('Client secret');
  const clientId = await shownSecret('Client ID');
  expect(await page.locator('#client-id').textContent()).toBe(clientId);
  created = { clientId, secret, rawId: page.url().split('/').pop()! };
  expect((await clientCredentialsToken(server, clientId, secret, 'read')).status).toBe(200);
  await page.reload();
  expect(await page.locator('.secret').count()).toBe(0);
  await expectNoOverflow('admin-client-detail');
});

test('a bad redirect URI is shown next to the field', async () => {
  await page.goto(`${server.url}/admin/clients/new`);
  await page.locator('#f-name').fill('Broken');
  await page.getByLabel('Redirect URIs').fill('not-a-uri');
  await page.getByRole('button', { name: 'Create client' }).click();
  await page.locator('#e-redirectUris').waitFor();
  expect(await page.locator('#f-redirectUris').getAttribute('aria-invalid')).toBe('true');
  expect(await page.locator('#f-redirectUris').inputValue()).toBe('not-a-uri');
  // The form comes back with status 400, which the browser reports on its console; nothing else may.
  expect(errors).toEqual([expect.stringContaining('status of 400 (Bad Request)')]);
  errors.length = 0;
});

test('edit the client, then rotate its secret: the old one stops working', async () => {
  await page.goto(`${server.url}/admin/clients/${created.rawId}`);
  await Promise.all([page.waitForURL(/\/edit$/), page.getByRole('link', { name: 'Edit settings' }).click()]);
  expect(await page.locator('#f-name').inputValue()).toBe('Reporting service');
  await page.getByLabel('Description').fill('Builds the weekly and monthly reports');
  await page.getByLabel('Token lifetimes').selectOption('SHORT');
  await expectNoOverflow('admin-client-edit');
  await Promise.all([page.waitForURL(/\/admin\/clients\/[0-9a-f-]+$/), page.getByRole('button', { name: 'Save changes' }).click()]);
  await page.getByText('Builds the weekly and monthly reports').waitFor();

  await page.getByRole('button', { name: 'Rotate secret' }).click(); // the confirmation dialog is accepted
  await page.getByText('New secret for “Reporting service”.').waitFor();
  const fresh = await shownSecret('New client secret');
  expect((await clientCredentialsToken(server, created.clientId, created.secret, 'read')).status).toBe(401);
  expect((await clientCredentialsToken(server, created.clientId, fresh, 'read')).status).toBe(200);
});

test("the client's authorized users; revoking one removes it", async () => {
  await deviceFlowToken(server, { scope: 'openid profile', clientId: registered.clientId });
  await page.goto(`${server.url}/admin/clients/${registered.rawId}`);
  await Promise.all([page.waitForURL(/\/authorizations$/), page.getByRole('link', { name: 'Authorized users' }).click()]);
  const row = page.locator('tbody tr', { hasText: 'admin' });
  await row.waitFor();
  await expectNoOverflow('admin-client-authorizations');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('Authorization of admin revoked').waitFor();
  await page.getByText('Nobody has authorized this client.').waitFor();
});

test('delete: a confirmation page, then the client is gone', async () => {
  await page.goto(`${server.url}/admin/clients/${created.rawId}`);
  await Promise.all([page.waitForURL(/\/delete$/), page.getByRole('link', { name: 'Delete…' }).click()]);
  await page.getByRole('heading', { name: 'Delete Reporting service?' }).waitFor();
  await expectNoOverflow('admin-client-delete');
  await Promise.all([page.waitForURL(/\/admin\/clients$/), page.getByRole('button', { name: 'Delete client' }).click()]);
  await page.getByText('Client “Reporting service” deleted').waitFor();
  const gone = await page.goto(`${server.url}/admin/clients/${created.rawId}`);
  expect(gone?.status()).toBe(404);
  expect(errors).toEqual([expect.stringContaining('status of 404 (Not Found)')]);
  errors.length = 0;
});
