// The device flow's pages beyond entering the code: the QR code a device can show, and the success
// page naming the client and the scopes the person allowed.
import QRCode from 'qrcode';
import { ScriptedBrowser } from '../helpers/browser.js';
import { postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function deviceAuthorization(scope = 'profile read'): Promise<Record<string, string>> {
  const res = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope });
  expect(res.status).toBe(200);
  return res.json as Record<string, string>;
}

test('GET /device/qr is an SVG QR code of verification_uri_complete, made locally, without signing in', async () => {
  const device = await deviceAuthorization();
  const res = await fetch(`${server.url}/device/qr?user_code=${encodeURIComponent(device.user_code!)}`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  const svg = await res.text();
  // The same library, same options, over the exact verification_uri_complete: the same modules.
  expect(svg).toBe(await QRCode.toString(device.verification_uri_complete!, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }));
  // Typed the way people type it (lower case, no dash), it encodes the same address.
  const loose = await fetch(`${server.url}/device/qr?user_code=${device.user_code!.replace('-', '').toLowerCase()}`);
  expect(await loose.text()).toBe(svg);
});

test.each([[''], ['?user_code='], ['?user_code=AAAA-AAAA'], ['?user_code=%3Cscript%3E']])('GET /device/qr%s is a readable 400 page', async (query) => {
  const res = await fetch(`${server.url}/device/qr${query}`);
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await res.text()).toContain('?user_code=XXXX-XXXX');
});

test('the success page says which client was authorized and for which scopes', async () => {
  const device = await deviceAuthorization('profile read');
  const browser = new ScriptedBrowser(server.url);
  await browser.follow(await browser.login('admin', ADMIN_PASSWORD, `/device?user_code=${device.user_code}`));
  const entry = await browser.get(`/device?user_code=${encodeURIComponent(device.user_code!)}`);
  const confirm = await browser.submit(entry, '/device/verify', {});
  expect(confirm.status).toBe(200);
  const done = await browser.submit(confirm, '/device/verify', { action: 'approve' });
  expect(done.status).toBe(200);
  expect(done.html).toContain('Device connected');
  expect(done.html).toContain('<strong>AuthGate CLI</strong>');
  expect(done.html).toMatch(/<code class="muted">profile<\/code>/);
  expect(done.html).toMatch(/<code class="muted">read<\/code>/);
  expect(done.html).not.toMatch(/<code class="muted">write<\/code>/);
});
