// Whatever a client or browser sends wrong gets a clear 4xx (RFC error JSON on protocol endpoints,
// a readable page on HTML routes), never a 5xx or a stack trace, and nothing stored is damaged.
import { ScriptedBrowser } from '../helpers/browser.js';
import { DEVICE_GRANT, json, postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('bad input', () => {
  let server: TestServer;
  let snapshot: string;
  const stored = async () => {
    const db = server.authgate.db;
    return JSON.stringify([await db.user.findMany({ orderBy: { id: 'asc' } }), await db.oAuthClient.findMany({ orderBy: { id: 'asc' } })]);
  };
  beforeAll(async () => {
    server = await startTestServer();
    snapshot = await stored();
  });
  afterAll(async () => {
    expect(await stored()).toBe(snapshot);
    await server.close();
  });

  const raw = (path: string, init: RequestInit) => fetch(`${server.url}${path}`, init);

  test.each([
    ['malformed JSON', { 'content-type': 'application/json' }, '{"grant_type": ', 400],
    ['a JSON array', { 'content-type': 'application/json' }, '[1,2]', 400],
    ['a nested JSON value', { 'content-type': 'application/json' }, '{"grant_type":{"a":1}}', 400],
    ['a wrong content type', { 'content-type': 'text/plain' }, 'grant_type=refresh_token', 415],
    ['XML', { 'content-type': 'application/xml' }, '<a/>', 415],
  ])('%s at the token endpoint is invalid_request', async (_name, headers, body, status) => {
    const res = await raw('/oauth/token', { method: 'POST', headers, body });
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await json(res)).toMatchObject({ error: 'invalid_request' });
  });

  test('an oversized body is refused with 413', async () => {
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: 'x'.repeat(100_000) });
    expect(res.status).toBe(413);
    expect(res.json.error).toBe('invalid_request');
  });

  test('a repeated parameter is invalid_request', async () => {
    const res = await raw('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=${encodeURIComponent(DEVICE_GRANT)}&device_code=a&device_code=b&client_id=${server.cliClientId}`,
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('device_code') });
    const twice = await raw('/oauth/device/code', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `client_id=${server.cliClientId}&scope=read&scope=write`,
    });
    expect((await json(twice)).error).toBe('invalid_request');
  });

  test('missing and unknown grant types', async () => {
    expect((await postForm(`${server.url}/oauth/token`, { client_id: server.cliClientId })).json.error).toBe('invalid_request');
    const unknown = await postForm(`${server.url}/oauth/token`, { grant_type: 'password', client_id: server.cliClientId });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toBe('unsupported_grant_type');
  });

  test('missing device_code and missing client', async () => {
    const noCode = await postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, client_id: server.cliClientId });
    expect(noCode.json.error).toBe('invalid_request');
    const noClient = await postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: 'abc' });
    expect(noClient.status).toBe(401);
    expect(noClient.json.error).toBe('invalid_client');
    // RFC 8628 §3.1: scope is optional; the default applies (see authgate-compat.test.ts).
    const noScope = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId });
    expect(noScope.status).toBe(200);
    const badScope = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read "quoted"' });
    expect(badScope.json.error).toBe('invalid_scope');
  });

  test('unknown device codes are invalid_grant; JSON bodies work like forms', async () => {
    const res = await raw('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: DEVICE_GRANT, device_code: 'nope', client_id: server.cliClientId }),
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toBe('invalid_grant');
    const device = await raw('/oauth/device/code', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: server.cliClientId, scope: 'read' }),
    });
    expect(device.status).toBe(200);
  });

  test('a confidential-style Basic header for a public client, and garbage Basic headers, are invalid_client', async () => {
    const basic = Buffer.from(`${server.cliClientId}:some-secret`).toString('base64');
    const res = await postForm(`${server.url}/oauth/device/code`, { scope: 'read' }, { authorization: `Basic ${basic}` });
    expect(res.status).toBe(401);
    const garbage = await postForm(`${server.url}/oauth/device/code`, { scope: 'read' }, { authorization: 'Basic %%%' });
    expect(garbage.status).toBe(401);
    expect(garbage.json.error).toBe('invalid_client');
  });

  test('tokeninfo without a token, with garbage, and with the token in two places', async () => {
    expect((await raw('/oauth/tokeninfo', {})).status).toBe(401);
    const garbage = await raw('/oauth/tokeninfo', { headers: { authorization: 'Bearer not.a.jwt' } });
    expect(garbage.status).toBe(401);
    const twice = await raw('/oauth/tokeninfo?access_token=a', { headers: { authorization: 'Bearer b' } });
    expect(twice.status).toBe(400);
  });

  test('unknown protocol paths get JSON 404, unknown pages an HTML 404', async () => {
    const api = await raw('/oauth/nothing', {});
    expect(api.status).toBe(404);
    expect((await json(api)).error).toBe('not_found');
    const page = await raw('/nothing-here', {});
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('Page not found');
  });

  test('HTML forms: bad bodies get a readable page, not a stack trace', async () => {
    const browser = new ScriptedBrowser(server.url);
    await browser.get('/login');
    const json = await raw('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(json.status).toBe(400);
    const text = await json.text();
    expect(text).toContain('<h1>Bad request</h1>');
    expect(text).not.toMatch(/at .*\.(ts|js):\d+/);
    const huge = await raw('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a='.padEnd(200_000, 'x') });
    expect(huge.status).toBe(413);
    const type = await raw('/device/verify', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(type.status).toBe(415);
  });
});
