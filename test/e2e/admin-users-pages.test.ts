// The admin users pages in Debian's Chromium: an administrator finds a user, creates one (the
// generated password shown once, with a copy button), edits, disables and deletes, as a person clicks
// it. Every page is screenshotted at desktop and phone width (test/artifacts/admin-user*.png), must
// not overflow sideways and must log no console error (a CSP violation would be one).
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../helpers/passwords.js';
import { deviceFlowToken, signedInBrowser } from '../helpers/graphql.js';
import { launchChromium, screenshotBoth, signIn, watchedContext } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

describe('admin users pages in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let errors: string[];
  let page: Page;
  let janeId = '';

  beforeAll(async () => {
    server = await startTestServer();
    const db = server.authgate.db;
    // Someone with something to show: tokens and an app from a device flow, a browser session, a
    // linked provider; and a few more users for the list.
    const jane = await db.user.create({
      data: { username: 'jane', fullName: 'Jane Appleseed-Longname', email: 'jane.appleseed@a-rather-long-domain.example', passwordHash: await hashPassword('jane-password') },
    });
    janeId = jane.id;
    await deviceFlowToken(server, { scope: 'openid profile read offline_access', username: 'jane', password: 'jane-password' });
    await signedInBrowser(server, 'jane', 'jane-password');
    await db.oAuthConnection.create({ data: { userId: jane.id, provider: 'github', providerUserId: '1234567', displayName: 'jane-on-github', email: 'jane@users.noreply.github.example' } });
    await db.user.create({ data: { username: 'bob', fullName: 'Bob Builder', email: 'bob@example.com', active: false } });
    await db.user.create({ data: { username: 'ops-admin', fullName: 'Operations', role: 'admin', authSource: 'github' } });

    browser = await launchChromium();
    ({ context, errors } = await watchedContext(browser));
    page = await context.newPage();
    await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
  }, 60_000);

  /** A form sent back with its field errors is a 400, which Chromium logs: expected exactly once here. */
  function expectRejectedForm(path: string): void {
    const entry = `${server.url}${path}: Failed to load resource: the server responded with a status of 400 (Bad Request)`;
    expect(errors).toContain(entry);
    errors.splice(errors.indexOf(entry), 1);
  }

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(() => {
    expect(errors).toEqual([]);
  });

  test('the list: search and filter', async () => {
    await page.goto(`${server.url}/admin/users`);
    expect((await page.locator('h1').innerText()).trim()).toBe('Users');
    expect(await page.locator('main tbody tr').count()).toBe(4);
    expect(await screenshotBoth(page, 'admin-users')).toEqual({ desktop: 0, phone: 0 });

    await page.fill('#f-q', 'jane');
    await Promise.all([page.waitForURL(/q=jane/), page.click('form.filters button[type=submit]')]);
    expect(await page.locator('main tbody tr').count()).toBe(1);
    await page.selectOption('#f-status', 'disabled');
    await page.fill('#f-q', '');
    await Promise.all([page.waitForURL(/status=disabled/), page.click('form.filters button[type=submit]')]);
    expect(await page.locator('main tbody').first().innerText()).toContain('bob');
    expect(await page.locator('main tbody tr').count()).toBe(1);
  });

  test('create a user: the generated password is shown once with a copy button', async () => {
    await page.goto(`${server.url}/admin/users`);
    await Promise.all([page.waitForURL(/\/admin\/users\/new$/), page.click('text=New user')]);
    // Bad input first: the message sits next to the field.
    await page.fill('#f-username', 'newcomer');
    await page.fill('#f-fullName', 'New Comer');
    await page.fill('#f-email', 'not-an-email');
    await Promise.all([page.waitForEvent('load'), page.click('main button[type=submit]')]);
    expect(await page.locator('#e-email').first().innerText()).toContain('is not an email address');
    expectRejectedForm('/admin/users');
    expect(await screenshotBoth(page, 'admin-users-new')).toEqual({ desktop: 0, phone: 0 });

    await page.fill('#f-email', 'newcomer@example.com');
    await Promise.all([page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/), page.click('main button[type=submit]')]);
    const password = await page.inputValue('#secret-1');
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(await page.locator('button[data-copy="secret-1"]').isVisible()).toBe(true);
    await page.reload();
    expect(await page.locator('#secret-1').count()).toBe(0);
  });

  test('the detail page with tokens, apps, connections and sessions', async () => {
    await page.goto(`${server.url}/admin/users?q=jane`);
    await Promise.all([page.waitForURL(new RegExp(`/admin/users/${janeId}$`)), page.click('main tbody a')]);
    expect(await page.locator('h1').first().innerText()).toContain('jane');
    expect(await page.locator('#tokens').first().innerText()).toContain('(2)');
    expect(await page.locator('main').first().innerText()).toContain('jane-on-github');
    expect(await screenshotBoth(page, 'admin-user-detail')).toEqual({ desktop: 0, phone: 0 });

    // Revoke a token (the confirm dialog is accepted by the watched context).
    await Promise.all([page.waitForEvent('load'), page.locator('form[action*="/tokens/"] button').first().click()]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('Token revoked');

    for (const path of ['connections', 'authorizations']) {
      await page.goto(`${server.url}/admin/users/${janeId}/${path}`);
      expect(await page.locator('h1').first().innerText()).toContain('jane');
      expect(await screenshotBoth(page, `admin-user-${path}`)).toEqual({ desktop: 0, phone: 0 });
    }
  });

  test('edit, change the role, disable and enable', async () => {
    await page.goto(`${server.url}/admin/users/${janeId}`);
    await Promise.all([page.waitForURL(/\/edit$/), page.click('main a:text("Edit")')]);
    await page.fill('#f-email', 'broken');
    await Promise.all([page.waitForEvent('load'), page.click('main button[type=submit]')]);
    expect(await page.locator('#e-email').isVisible()).toBe(true);
    expectRejectedForm(`/admin/users/${janeId}`);
    expect(await screenshotBoth(page, 'admin-user-edit')).toEqual({ desktop: 0, phone: 0 });
    await page.fill('#f-email', 'jane@example.com');
    await page.fill('#f-fullName', 'Jane Appleseed');
    await Promise.all([page.waitForURL(new RegExp(`/admin/users/${janeId}$`)), page.click('main button[type=submit]')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('saved');
    expect(await page.locator('dl.props').first().innerText()).toContain('jane@example.com');

    await page.selectOption('#f-role', 'ADMIN');
    await Promise.all([page.waitForEvent('load'), page.click('form.role-form button')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('jane is now an administrator.');
    await page.selectOption('#f-role', 'USER');
    await Promise.all([page.waitForEvent('load'), page.click('form.role-form button')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('jane is now a user.');

    await Promise.all([page.waitForEvent('load'), page.click('form[action$="/disable"] button')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('jane is disabled');
    expect((await page.locator('h1 .badge.bad').innerText()).trim()).toBe('disabled');
    await Promise.all([page.waitForEvent('load'), page.click('form[action$="/enable"] button')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('can sign in again');
  });

  test('delete: the confirmation page names the user', async () => {
    await page.goto(`${server.url}/admin/users/${janeId}`);
    await Promise.all([page.waitForURL(/\/delete$/), page.click('main a:text("Delete…")')]);
    expect((await page.locator('h1').innerText()).trim()).toBe('Delete jane?');
    expect(await screenshotBoth(page, 'admin-user-delete')).toEqual({ desktop: 0, phone: 0 });
    await Promise.all([page.waitForURL(/\/admin\/users$/), page.click('main button.danger')]);
    expect(await page.locator('.flash.ok').first().innerText()).toContain('User jane deleted');
  });
});
