// Real Chromium (Debian's package, driven by playwright-core) through the device and the
// authorization-code flows, as a person would click them. This also proves what only a browser
// enforces: cookies, CSP (form-action must allow the consent page's redirect to the client), redirects.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createClient } from '../helpers/clients.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test/artifacts');

describe('flows in a real browser', () => {
  let server: TestServer;
  let browser: Browser;
  let callback: Server;
  let callbackUrl: string;
  const received: URL[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The OAuth client's redirect target: records what the browser brings back.
    callback = createServer((req, res) => {
      received.push(new URL(req.url!, callbackUrl));
      res.setHeader('content-type', 'text/plain');
      res.end('client received the callback');
    });
    await new Promise<void>((r) => callback.listen(0, '127.0.0.1', r));
    callbackUrl = `http://127.0.0.1:${(callback.address() as { port: number }).port}/cb`;
  });
  afterAll(async () => {
    await browser?.close();
    callback?.close();
    await server?.close();
  });

  async function signIn(page: Page): Promise<void> {
    await page.waitForURL(/\/login/);
    await page.fill('#username', 'admin');
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('main button[type=submit]');
  }

  test('device flow: open the link, sign in, check the code, allow', async () => {
    const device = (await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'profile read' })).json as Record<string, string>;
    const page = await browser.newPage();
    await page.goto(device.verification_uri_complete!);
    await signIn(page);
    await page.waitForURL(/\/device\?user_code=/);
    expect(await page.inputValue('#user_code')).toBe(device.user_code);
    await page.click('main button[type=submit]');
    await page.getByText('AuthGate CLI', { exact: false }).first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'device-confirm.png') });
    await page.click('button[value=approve]');
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    const tokens = await postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: device.device_code!, client_id: server.cliClientId });
    expect(tokens.status).toBe(200);
    await page.close();
  });

  test('authorization code: sign in, consent, and the browser lands on the client with code, state and iss', async () => {
    const client = await createClient(server, { type: 'public', redirectUris: [callbackUrl], name: 'Example Web App' });
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: callbackUrl, scope: 'openid profile', state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256' });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.url}/oauth/authorize?${query}`);
    await signIn(page);
    await page.getByRole('heading', { name: /Example Web App/ }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'consent.png') });
    await page.click('button[value=approve]');
    await page.waitForURL(/\/cb\?/);
    const landed = received.filter((u) => u.pathname === '/cb').at(-1)!; // the browser may also ask for /favicon.ico
    expect(landed.searchParams.get('state')).toBe('xyz');
    expect(landed.searchParams.get('iss')).toBe(server.url);
    const tokens = await postForm(`${server.url}/oauth/token`, {
      grant_type: 'authorization_code',
      code: landed.searchParams.get('code')!,
      redirect_uri: callbackUrl,
      client_id: client.clientId,
      code_verifier: verifier,
    });
    expect(tokens.status).toBe(200);
    expect(tokens.json.id_token).toBeTruthy();
    // The session cookie is HttpOnly: page scripts cannot read it.
    expect(await page.evaluate('document.cookie')).not.toContain('authgate_session');
    await context.close();
  });
});
