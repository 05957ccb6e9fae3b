// The admin dashboard, tokens and audit pages in Debian's Chromium: the charts drawn by chart.js under
// the strict CSP, the token actions clicked (revoke asks first), the audit filters, and the live view
// receiving a new event without a reload. Every page: no console error (a CSP violation is one), no
// horizontal overflow at desktop or phone width, screenshots under test/artifacts/.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { hashPassword } from '../helpers/passwords.js';
import { launchChromium, screenshotBoth, signIn, watchedContext } from '../helpers/chromium.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

/** Form controls without a label, buttons and links without a name, controls out of the tab order. */
async function unlabelledControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const bad: string[] = [];
    for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
      const input = el as HTMLInputElement;
      if (input.type === 'hidden') continue;
      if (!(input.labels?.length || input.getAttribute('aria-label') || input.getAttribute('aria-labelledby'))) bad.push(el.outerHTML.slice(0, 100));
    }
    for (const el of Array.from(document.querySelectorAll('button, a[href], canvas'))) {
      if (!((el.textContent ?? '').trim() || el.getAttribute('aria-label'))) bad.push(el.outerHTML.slice(0, 100));
    }
    for (const el of Array.from(document.querySelectorAll('[tabindex]'))) if (Number(el.getAttribute('tabindex')) < 0) bad.push(el.outerHTML.slice(0, 100));
    return bad;
  });
}

describe('admin dashboard, tokens and audit pages in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let errors: string[];
  let page: Page;

  beforeAll(async () => {
    server = await startTestServer();
    const { db, services } = server.authgate;
    const alice = await db.user.create({ data: { username: 'alice', passwordHash: await hashPassword('alice-password') } });
    const cli = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
    for (let i = 0; i < 3; i++) {
      await services.tokens.issue({ client: cli, user: alice, scopes: ['read', 'offline_access'], resources: [], grantType: 'urn:ietf:params:oauth:grant-type:device_code' }, { withRefresh: true }, { ip: '127.0.0.1', userAgent: 'e2e' });
    }
    browser = await launchChromium();
    ({ context, errors } = await watchedContext(browser));
    page = await context.newPage();
    await signIn(page, server.url, 'admin', ADMIN_PASSWORD);
    // A failed sign-in, so the dashboard has something red to draw.
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${server.url}/login`);
    await p.fill('#username', 'alice');
    await p.fill('#password', 'wrong');
    await p.click('main button[type=submit]');
    await other.close();
    await services.audit.flush();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });
  afterEach(() => {
    expect(errors).toEqual([]);
  });

  test('dashboard: cards, both charts drawn by chart.js, the window switch, the figures table', async () => {
    await page.goto(`${server.url}/admin`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    // chart.js drew into both canvases (it sets its own size attributes and keeps the instance).
    await page.waitForFunction(() => {
      const chart = (window as unknown as { Chart?: { getChart(el: Element): unknown } }).Chart;
      return !!chart && ['chart-logins', 'chart-tokens'].every((id) => chart.getChart(document.getElementById(id)!));
    });
    const drawn = await page.evaluate(() => {
      const canvas = document.getElementById('chart-logins') as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
      return { painted, label: canvas.getAttribute('aria-label') };
    });
    expect(drawn.painted).toBeGreaterThan(1000);
    expect(drawn.label).toMatch(/^Sign-ins and failed sign-ins per interval/);
    expect(await screenshotBoth(page, 'admin-dashboard')).toEqual({ desktop: 0, phone: 0 });
    expect(await unlabelledControls(page)).toEqual([]);

    await page.getByRole('link', { name: 'Week', exact: true }).click();
    await page.waitForURL(/window=week/);
    await page.getByRole('heading', { name: /Activity · Last 7 days/ }).waitFor();
    expect(await page.getAttribute('.segmented a[aria-current=page]', 'href')).toBe('/admin?window=week');
    await page.getByText('The figures as a table').click();
    await page.getByRole('columnheader', { name: 'Failed sign-ins' }).waitFor();
    expect(await page.locator('details.figures tbody tr').count()).toBe(28);
  });

  test('tokens: filter, disable and enable, revoke after confirming', async () => {
    await page.goto(`${server.url}/admin/tokens`);
    await page.getByRole('heading', { name: 'Tokens' }).waitFor();
    expect(await page.locator('table.tokens tbody tr').count()).toBe(6);
    await page.selectOption('#f-category', 'REFRESH');
    await page.selectOption('#f-user', { label: 'alice' });
    await Promise.all([page.waitForURL(/category=REFRESH/), page.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.locator('table.tokens tbody tr').count()).toBe(3);
    expect(await screenshotBoth(page, 'admin-tokens')).toEqual({ desktop: 0, phone: 0 });
    expect(await unlabelledControls(page)).toEqual([]);

    const first = page.locator('table.tokens tbody tr').first();
    await first.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Token disabled: it does not work until it is enabled again.').waitFor();
    expect(page.url()).toContain('category=REFRESH'); // back to the same filtered list
    await page.locator('table.tokens tbody tr').first().getByText('disabled', { exact: true }).waitFor();
    await page.locator('table.tokens tbody tr').first().getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Token enabled.').waitFor();

    // Revoke asks first (the context accepts the dialog), then takes the access token along.
    const dialogs: string[] = [];
    page.once('dialog', (d) => void dialogs.push(d.message()));
    await page.locator('table.tokens tbody tr').first().getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Token revoked, with 1 token issued from it.').waitFor();
    expect(dialogs[0]).toMatch(/^Revoke this refresh token for good\?/);
    await page.locator('table.tokens tbody tr').first().getByText('revoked', { exact: true }).waitFor();
  });

  test('audit: filters with the UTC range, the CSV link, and the live view receives a new event without reload', async () => {
    await page.goto(`${server.url}/admin/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByText('Live · waiting for events').waitFor();
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).toBe('true');
    expect(await screenshotBoth(page, 'admin-audit')).toEqual({ desktop: 0, phone: 0 });
    expect(await unlabelledControls(page)).toEqual([]);

    // A filtered view: failed sign-ins only, in a range that includes now.
    await page.fill('#f-types', 'AUTHENTICATION_FAILURE');
    await page.check('input[name=severities][value=WARNING]');
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString().slice(0, 16);
    await page.fill('#f-since', hourAgo);
    await Promise.all([page.waitForURL(/types=AUTHENTICATION_FAILURE/), page.getByRole('button', { name: 'Filter' }).click()]);
    expect(await page.inputValue('#f-since')).toBe(hourAgo);
    const csv = new URL((await page.getAttribute('a[download]', 'href'))!, server.url);
    expect(csv.pathname).toBe('/admin/audit/export');
    expect(csv.searchParams.get('types')).toBe('AUTHENTICATION_FAILURE');
    expect(csv.searchParams.get('since')).toBe(`${hourAgo}:00.000Z`);
    const rowsBefore = await page.locator('#audit-rows tr').count();
    await page.getByText('Live · waiting for events').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads

    // Someone fails to sign in, in another browser: the row appears here without a reload.
    const other = await browser.newContext();
    const p = await other.newPage();
    await p.goto(`${server.url}/login`);
    await p.fill('#username', 'alice');
    await p.fill('#password', 'still wrong');
    await p.click('main button[type=submit]');
    await other.close();
    await page.getByText('Live · 1 new event').waitFor({ timeout: 15_000 });
    expect(await page.locator('#audit-rows tr').count()).toBe(rowsBefore + 1);
    expect(await page.innerText('#audit-total')).toBe(`${rowsBefore + 1} events match`);
    const row = page.locator('#audit-rows tr').first();
    expect(await row.locator('td[data-label=Event]').innerText()).toMatch(/^AUTHENTICATION_FAILURE failed$/);
    expect(await row.locator('td[data-label=Actor] a').innerText()).toBe('alice');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    // An event outside the filter (a successful sign-in) does not appear.
    const third = await browser.newContext();
    const q = await third.newPage();
    await q.goto(`${server.url}/login`);
    await q.fill('#username', 'alice');
    await q.fill('#password', 'alice-password');
    await Promise.all([q.waitForURL((u) => !u.pathname.startsWith('/login')), q.click('main button[type=submit]')]);
    await third.close();
    await page.waitForTimeout(1500);
    expect(await page.locator('#audit-rows tr').count()).toBe(rowsBefore + 1);

    // Pausing stops following; the toggle says so.
    await page.click('#live-toggle');
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).toBe('false');
    await page.getByText('Paused').waitFor();
    expect(await screenshotBoth(page, 'admin-audit-live')).toEqual({ desktop: 0, phone: 0 });

    // The row the script built reads the same as the row the server renders for that event.
    const liveRow = await page.locator('#audit-rows tr').first().innerText();
    await page.reload();
    expect(await page.locator('#audit-rows tr').first().innerText()).toBe(liveRow);
  });

  test('a bad filter shows its message next to the field, without console errors', async () => {
    const url = `${server.url}/admin/audit?since=tomorrow&severities=LOUD`;
    const res = await page.goto(url);
    expect(res!.status()).toBe(400);
    // The page's own 400 status is logged by Chromium; that one line is expected, nothing else.
    expect(errors.splice(0)).toEqual([`${url}: Failed to load resource: the server responded with a status of 400 (Bad Request)`]);
    await page.getByText('"tomorrow" is not a date and time: enter one as YYYY-MM-DDTHH:MM (UTC).').waitFor();
    await page.getByText('Unknown severity "LOUD"').waitFor();
    expect(await screenshotBoth(page, 'admin-audit-bad-filter')).toEqual({ desktop: 0, phone: 0 });
  });

  test('the live view stops, saying why, once the session behind it has ended', async () => {
    await page.goto(`${server.url}/admin/audit`);
    await page.getByText('Live · waiting for events').waitFor();
    await page.waitForTimeout(2500); // past the subscription's recheck interval
    // Signing out in another tab ends this session; the next event is not sent, the stream ends, and
    // subscribing again is refused.
    const other = await context.newPage();
    await other.goto(`${server.url}/admin/tokens`);
    await Promise.all([other.waitForURL((u) => u.pathname === '/login'), other.getByRole('button', { name: 'Sign out' }).click()]);
    await other.close();
    await page.getByText(/^Stopped: /).waitFor({ timeout: 15_000 });
    expect(await page.innerText('#live-status')).toMatch(/^Stopped: .*sign in/i);
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).toBe('false');
    expect(await page.locator('#audit-rows tr', { hasText: 'LOGOUT' }).count()).toBe(0);
  });
});
