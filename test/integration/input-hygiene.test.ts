// Input checked in one place: post-login redirects never leave the site, resource indicators are
// absolute URIs without whitespace, a second Authorization header is refused, wrong methods get 405
// with Allow on both faces, and an anonymous request that shows no form stores no session.
import { connect } from 'node:net';
import { createClient } from '../helpers/clients.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { json, postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

// Every one of these must end on this site, whatever the browser does with the answer.
const ESCAPES = [
  '/.//evil.com',
  '/..//evil.com',
  '/%2e//evil.com',
  '/%2E%2E//evil.com',
  '/.%2e//evil.com',
  '/a/..//evil.com',
  '/a/../../..//evil.com',
  '//evil.com',
  '///evil.com',
  '/\\evil.com',
  '/\\\\evil.com',
  '\\/evil.com',
  '/%5c/evil.com',
  '/%5C%5Cevil.com',
  '%2f%2fevil.com',
  '/%2f/evil.com',
  '/\t/evil.com',
  '/\n/evil.com',
  '/\r\n/evil.com',
  '/ /evil.com',
  'https://evil.com',
  'http:evil.com',
  'javascript:alert(1)',
  '/%09/evil.com',
  ' //evil.com',
];

/** Where a Location header sends a browser that is on `site`. */
function destination(location: string, site: string): URL {
  return new URL(location, site);
}

function expectStaysOnSite(status: number, location: string | undefined, site: string): void {
  if (status === 400) return; // refused outright (control characters): nothing to follow
  expect(status).toBe(302);
  expect(location).toBeDefined();
  expect(destination(location!, site).origin).toBe(new URL(site).origin);
  // Also as a string: nothing a browser could read as scheme-relative or as another scheme.
  expect(location).toMatch(/^\/(?![/\\])/);
}

/** A request written on the socket, so that two Authorization headers really are two on the wire. */
function rawRequest(url: string, method: string, headers: [string, string][], body = ''): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  const head = [`${method} ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of headers) head.push(`${name}: ${value}`);
  return new Promise((resolve, reject) => {
    // Written, not ended: a half-closed socket may be dropped before a slower answer is sent.
    const socket = connect(Number(port), hostname, () => socket.write(`${head.join('\r\n')}\r\n\r\n${body}`));
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const statusLine = data.slice(0, data.indexOf('\r\n'));
      const text = data.slice(data.indexOf('\r\n\r\n') + 4);
      // The servers answer with a fixed length or chunked; a chunked body is unwrapped to its one chunk.
      const chunked = /transfer-encoding: chunked/i.test(data.slice(0, data.indexOf('\r\n\r\n')));
      resolve({ status: Number(statusLine.split(' ')[1]), body: chunked ? text.split('\r\n')[1]! : text });
    });
  });
}

describe('input hygiene', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  describe('post-login redirect', () => {
    test('signed in, GET /login?redirect=... never sends the browser off the site', async () => {
      const browser = new ScriptedBrowser(server.url);
      expect((await browser.login('admin', ADMIN_PASSWORD)).status).toBe(302);
      for (const target of ESCAPES) {
        for (const query of [encodeURIComponent(target), target.replace(/[\t\n\r ]/g, encodeURIComponent)]) {
          const page = await browser.get(`/login?redirect=${query}`);
          try {
            expectStaysOnSite(page.status, page.location, server.url);
          } catch (err) {
            throw new Error(`redirect=${JSON.stringify(target)} (sent as ${query}) answered ${page.status} ${page.location}: ${String(err)}`);
          }
        }
      }
      // A real local path still works, query included.
      const ok = await browser.get(`/login?redirect=${encodeURIComponent('/device?user_code=ABCD-EFGH')}`);
      expect(ok.location).toBe('/device?user_code=ABCD-EFGH');
    });

    test('POST /login with a redirect field never sends the browser off the site', async () => {
      for (const target of ESCAPES) {
        const browser = new ScriptedBrowser(server.url);
        const form = await browser.get('/login');
        const page = await browser.submit(form, '/login', { username: 'admin', password: ADMIN_PASSWORD, redirect: target });
        try {
          expectStaysOnSite(page.status, page.location, server.url);
        } catch (err) {
          throw new Error(`redirect=${JSON.stringify(target)} answered ${page.status} ${page.location}: ${String(err)}`);
        }
      }
    }, 30_000);
  });

  describe('resource indicators (RFC 8707 §2)', () => {
    const bad = ['https://api.example/a https://api.example/b', 'https://api.example/a\u00a0b', ' https://api.example/', 'https://api.example/#frag', 'relative/path'];

    test('the token endpoint refuses whitespace, fragments and relative values as invalid_target', async () => {
      const client = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
      const auth = { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` };
      for (const resource of bad) {
        const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read', resource }, auth);
        expect([resource, res.status, res.json.error]).toEqual([resource, 400, 'invalid_target']);
      }
      const good = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read', resource: 'https://api.example/a' }, auth);
      expect(good.status).toBe(200);
    });

    test('the device authorization endpoint refuses them too', async () => {
      for (const resource of bad) {
        const res = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read', resource });
        expect([resource, res.status, res.json.error]).toEqual([resource, 400, 'invalid_target']);
      }
    });

    test('the authorize page sends invalid_target back instead of showing the value on the consent page', async () => {
      const client = await createClient(server, { scopes: 'openid read' });
      const browser = new ScriptedBrowser(server.url);
      await browser.login('admin', ADMIN_PASSWORD);
      const query = new URLSearchParams({
        client_id: client.clientId,
        redirect_uri: client.redirectUri,
        response_type: 'code',
        scope: 'read',
        state: 's1',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        resource: 'https://api.example/a https://api.example/b',
      });
      const page = await browser.get(`/oauth/authorize?${query}`);
      expect(page.status).toBe(302);
      const back = new URL(page.location!);
      expect(back.origin + back.pathname).toBe(client.redirectUri);
      expect(back.searchParams.get('error')).toBe('invalid_target');
      expect(back.searchParams.get('state')).toBe('s1');
    });
  });

  describe('duplicate Authorization headers', () => {
    test('the protocol face refuses two Authorization headers with invalid_request', async () => {
      const client = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
      const good = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
      const other = `Basic ${Buffer.from(`${client.clientId}:wrong`).toString('base64')}`;
      const form: [string, string] = ['content-type', 'application/x-www-form-urlencoded'];
      for (const pair of [
        [good, other],
        [other, good],
        [good, good],
      ]) {
        const res = await rawRequest(`${server.url}/oauth/token`, 'POST', [form, ['Authorization', pair[0]!], ['authorization', pair[1]!]], 'grant_type=client_credentials&scope=read');
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('Authorization') });
      }
      const bearer = await rawRequest(`${server.url}/oauth/userinfo`, 'GET', [
        ['Authorization', 'Bearer a'],
        ['Authorization', 'Bearer b'],
      ]);
      expect(bearer.status).toBe(400);
      expect(JSON.parse(bearer.body).error).toBe('invalid_request');
      // One header still works.
      const single = await rawRequest(`${server.url}/oauth/token`, 'POST', [form, ['Authorization', good]], 'grant_type=client_credentials&scope=read');
      expect(single.status).toBe(200);
    });
  });

  describe('wrong methods', () => {
    test.each([
      ['PUT', '/oauth/token', 'POST'],
      ['DELETE', '/oauth/token', 'POST'],
      ['PATCH', '/oauth/userinfo', 'HEAD, GET, POST'],
      ['DELETE', '/oauth/revoke', 'POST'],
      ['POST', '/.well-known/openid-configuration', 'HEAD, GET'],
      ['PUT', '/oauth/device/code', 'POST'],
    ])('%s %s is 405 with Allow, as RFC error JSON', async (method, path, allow) => {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status).toBe(405);
      expect(new Set(res.headers.get('allow')!.split(/,\s*/))).toEqual(new Set(allow.split(', ')));
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await json(res)).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining(method) });
    });

    test.each([
      ['PUT', '/login', 'HEAD, GET, POST'],
      ['DELETE', '/oauth/authorize', 'HEAD, GET, POST'],
      ['PATCH', '/device/verify', 'POST'],
      ['POST', '/', 'HEAD, GET'],
    ])('%s %s is 405 with Allow, as a page', async (method, path, allow) => {
      const res = await fetch(`${server.url}${path}`, { method, redirect: 'manual' });
      expect(res.status).toBe(405);
      expect(new Set(res.headers.get('allow')!.split(/,\s*/))).toEqual(new Set(allow.split(', ')));
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(await res.text()).toContain('Method not allowed');
    });

    test('unknown paths are still 404 on both faces', async () => {
      expect((await fetch(`${server.url}/oauth/nothing`, { method: 'PUT' })).status).toBe(404);
      expect((await fetch(`${server.url}/nothing`, { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('sessions', () => {
    test('anonymous requests to pages without a form store no session row; a form page stores one', async () => {
      const db = server.authgate.db;
      const before = await db.session.count();
      const paths = ['/missing-page', '/', '/x/nothing-here'];
      for (let round = 0; round < 100; round++) {
        const answers = await Promise.all(paths.map((p) => fetch(`${server.url}${p}`, { redirect: 'manual' })));
        for (const res of answers) {
          expect(res.headers.getSetCookie().join()).not.toContain('authgate_session');
          await res.arrayBuffer();
        }
      }
      expect(await db.session.count()).toBe(before);
      // Wrong methods and refused input store nothing either.
      await (await fetch(`${server.url}/login`, { method: 'PUT' })).arrayBuffer();
      await (await fetch(`${server.url}/login?redirect=%00`)).arrayBuffer();
      expect(await db.session.count()).toBe(before);
      // The login page shows a form, so it needs a session for its CSRF token.
      const login = await fetch(`${server.url}/login`);
      expect(login.headers.getSetCookie().join()).toContain('authgate_session');
      expect(await db.session.count()).toBe(before + 1);
    });
  });
});
