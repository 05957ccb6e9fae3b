// The acceptance sweep: a control character (NUL, SOH, US, DEL) in any parameter of any endpoint, sent
// in the query, a form body, a JSON body or HTTP Basic credentials, is refused with a 4xx before it
// reaches the database (PostgreSQL answered 500 to a NUL before), on both faces, and nothing stored
// changes. The endpoints and their parameters follow src/oauth/router.ts and src/web/router.ts.
import { connect } from 'node:net';
import { findForm } from '../helpers/browser.js';
import { createClient, type TestClient } from '../helpers/clients.js';
import { DEVICE_GRANT } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

const CONTROL_CHARACTERS = ['\u0000', '\u0001', '\u001f', '\u007f'];
const RESOURCE = 'https://api.example/';

type Encoding = 'query' | 'form' | 'json';

interface Endpoint {
  name: string;
  face: 'protocol' | 'page';
  method: 'GET' | 'POST';
  path: string;
  /** A well-formed request: every parameter the endpoint reads, with a plausible value. */
  params: Record<string, string>;
  /** Client credentials this endpoint also accepts in a Basic header. */
  basic?: { clientId: string; clientSecret: string };
  /** The RFC error code expected; invalid_request unless the endpoint has its own vocabulary. */
  error?: string;
  /** Non-string members a JSON body also carries (a registration document's lists). */
  document?: Record<string, unknown>;
}

interface Probe {
  label: string;
  endpoint: Endpoint;
  /** Overrides the endpoint's expected error code. */
  error?: string;
  send(): Promise<{ status: number; contentType: string; body: string }>;
}

function withCharacter(value: string, c: string): string {
  return `${value.slice(0, 1)}${c}${value.slice(1)}`;
}

describe('control characters in every parameter of every endpoint', () => {
  let server: TestServer;
  let session: { cookie: string; csrf: string };
  let confidential: TestClient;
  let web: TestClient;
  let endpoints: Endpoint[];

  const stored = async () => {
    const db = server.authgate.db;
    await server.authgate.services.audit.flush();
    const rows = await Promise.all([
      db.user.findMany({ orderBy: { id: 'asc' } }),
      db.oAuthClient.findMany({ orderBy: { id: 'asc' } }),
      db.token.findMany({ orderBy: { id: 'asc' } }),
      db.authorizationCode.findMany({ orderBy: { id: 'asc' } }),
      db.deviceCode.findMany({ orderBy: { id: 'asc' } }),
      db.userAuthorization.findMany({ orderBy: { id: 'asc' } }),
      // A request in a signed-in session slides its idle expiry (koa-session commits even after an
      // error); what the session holds must not change.
      db.session.findMany({ orderBy: { id: 'asc' }, select: { id: true, userId: true, data: true, absoluteExpiresAt: true } }),
      db.auditEvent.count(),
    ]);
    return JSON.stringify(rows);
  };

  beforeAll(async () => {
    // Address limits off (0): the sweep sends hundreds of requests from one address on purpose.
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', RATE_LIMIT_REGISTRATION: '0', RATE_LIMIT_DEVICE_CODE: '0' });
    confidential = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    web = await createClient(server, { scopes: 'openid read' });
    // A signed-in session with a valid CSRF token: without the screening, page posts would reach the handlers.
    session = await signIn();
    const csrf = session.csrf;
    const secret = { clientId: confidential.clientId, clientSecret: confidential.clientSecret! };
    const authorize = {
      client_id: web.clientId,
      redirect_uri: web.redirectUri,
      response_type: 'code',
      scope: 'openid read',
      state: 'state-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      nonce: 'nonce-1',
      prompt: 'consent',
      resource: RESOURCE,
    };
    const p = (name: string, method: 'GET' | 'POST', path: string, params: Record<string, string>, basic?: Endpoint['basic']): Endpoint => ({
      name,
      face: 'protocol',
      method,
      path,
      params,
      basic,
    });
    const page = (name: string, method: 'GET' | 'POST', path: string, params: Record<string, string>): Endpoint => ({ name, face: 'page', method, path, params });
    endpoints = [
      p('token: authorization_code', 'POST', '/oauth/token', {
        grant_type: 'authorization_code',
        client_id: web.clientId,
        code: 'some-code',
        redirect_uri: web.redirectUri,
        code_verifier: 'v'.repeat(43),
        resource: RESOURCE,
      }),
      p('token: refresh_token', 'POST', '/oauth/token', { grant_type: 'refresh_token', client_id: server.cliClientId, refresh_token: 'some-refresh', scope: 'read', resource: RESOURCE }),
      p('token: client_credentials', 'POST', '/oauth/token', { grant_type: 'client_credentials', ...asFields(secret), scope: 'read', resource: RESOURCE }, secret),
      p('token: device_code', 'POST', '/oauth/token', { grant_type: DEVICE_GRANT, client_id: server.cliClientId, device_code: 'some-device-code', resource: RESOURCE }),
      p('device authorization', 'POST', '/oauth/device/code', { client_id: server.cliClientId, scope: 'read', resource: RESOURCE }),
      p('revoke', 'POST', '/oauth/revoke', { ...asFields(secret), token: 'some-token', token_type_hint: 'refresh_token' }, secret),
      p('introspect', 'POST', '/oauth/introspect', { ...asFields(secret), token: 'some-token', token_type_hint: 'access_token' }, secret),
      p('tokeninfo GET', 'GET', '/oauth/tokeninfo', { access_token: 'some-token' }),
      p('tokeninfo POST', 'POST', '/oauth/tokeninfo', { access_token: 'some-token' }),
      p('userinfo GET', 'GET', '/oauth/userinfo', { access_token: 'some-token' }),
      p('userinfo POST', 'POST', '/oauth/userinfo', { access_token: 'some-token' }),
      // RFC 7591 §3.2.2: the registration document's values are invalid_client_metadata.
      {
        ...p('register', 'POST', '/oauth/register', { client_name: 'Sweep', scope: 'openid', token_endpoint_auth_method: 'none' }),
        error: 'invalid_client_metadata',
        document: { redirect_uris: ['https://app.example/cb'] },
      },
      p('discovery', 'GET', '/.well-known/openid-configuration', { x: 'y' }),
      p('jwks', 'GET', '/.well-known/jwks.json', { x: 'y' }),
      page('home', 'GET', '/', { x: 'y' }),
      page('authorize GET', 'GET', '/oauth/authorize', authorize),
      page('authorize POST', 'POST', '/oauth/authorize', { ...authorize, decision: 'approve', _csrf: csrf }),
      page('login GET', 'GET', '/login', { redirect: '/device' }),
      page('login POST', 'POST', '/login', { username: 'admin', password: ADMIN_PASSWORD, redirect: '/device', _csrf: csrf }),
      page('device GET', 'GET', '/device', { user_code: 'ABCD-EFGH' }),
      page('device verify POST', 'POST', '/device/verify', { user_code: 'ABCD-EFGH', action: 'approve', _csrf: csrf }),
      page('logout POST', 'POST', '/logout', { _csrf: csrf }),
    ];
  });
  afterAll(async () => {
    await server.close();
  });

  /** Signs in as the admin with plain requests, keeping the session cookies; returns them and a CSRF token. */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const jar = new Map<string, string>();
    const keep = (res: Response) => {
      for (const setCookie of res.headers.getSetCookie()) {
        const [pair] = setCookie.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
    };
    const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const form = await fetch(`${server.url}/login`);
    keep(form);
    const loginCsrf = findForm(await form.text(), '/login').hidden._csrf!;
    const login = await fetch(`${server.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD, _csrf: loginCsrf }),
    });
    keep(login);
    expect(login.status).toBe(302);
    const device = await fetch(`${server.url}/device`, { headers: { cookie: cookie() } });
    keep(device);
    return { cookie: cookie(), csrf: findForm(await device.text(), '/device/verify').hidden._csrf! };
  }

  function asFields(secret: { clientId: string; clientSecret: string }): Record<string, string> {
    return { client_id: secret.clientId, client_secret: secret.clientSecret };
  }

  async function send(endpoint: Endpoint, params: Record<string, string>, encoding: Encoding, headers: Record<string, string> = {}) {
    const query = new URLSearchParams(params).toString();
    const url = `${server.url}${endpoint.path}${encoding === 'query' ? `?${query}` : ''}`;
    const body = encoding === 'form' ? query : encoding === 'json' ? JSON.stringify({ ...endpoint.document, ...params }) : undefined;
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    const method = encoding === 'query' ? 'GET' : 'POST';
    // Pages are asked with the signed-in session's cookie, as a person's browser would.
    const cookie: Record<string, string> = endpoint.face === 'page' ? { cookie: session.cookie } : {};
    const res = await fetch(url, { method, redirect: 'manual', headers: { ...(body ? { 'content-type': contentType } : {}), ...cookie, ...headers }, body });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  }

  function probes(): Probe[] {
    const list: Probe[] = [];
    for (const endpoint of endpoints) {
      const encodings: Encoding[] = endpoint.method === 'GET' ? ['query'] : endpoint.path === '/oauth/register' ? ['json'] : ['form', 'json'];
      for (const name of Object.keys(endpoint.params)) {
        for (const c of CONTROL_CHARACTERS) {
          for (const encoding of encodings) {
            const params = { ...endpoint.params, [name]: withCharacter(endpoint.params[name]!, c) };
            list.push({ label: `${endpoint.name} ${name} ${JSON.stringify(c)} in ${encoding}`, endpoint, send: () => send(endpoint, params, encoding) });
          }
          // The parameter's name too.
          const renamed = { ...endpoint.params, [withCharacter(name, c)]: endpoint.params[name]! };
          list.push({ label: `${endpoint.name} name ${JSON.stringify(withCharacter(name, c))}`, endpoint, send: () => send(endpoint, renamed, encodings[0]!) });
        }
      }
      if (endpoint.method === 'POST') {
        // POST endpoints do not read the query, but nothing in it passes either.
        list.push({ label: `${endpoint.name} query on a POST`, endpoint, error: 'invalid_request', send: () => send({ ...endpoint, path: `${endpoint.path}?x=%00` }, endpoint.params, 'form') });
      }
      if (endpoint.basic) {
        const { clientId, clientSecret } = endpoint.basic;
        const fields = Object.fromEntries(Object.entries(endpoint.params).filter(([k]) => k !== 'client_id' && k !== 'client_secret'));
        for (const c of CONTROL_CHARACTERS) {
          for (const [id, secret] of [
            [withCharacter(clientId, c), clientSecret],
            [clientId, withCharacter(clientSecret, c)],
          ]) {
            // RFC 6749 §2.3.1: each part form-urlencoded, then base64: both routes for a raw byte.
            for (const encodePart of [(s: string) => s, encodeURIComponent]) {
              const authorization = `Basic ${Buffer.from(`${encodePart(id!)}:${encodePart(secret!)}`).toString('base64')}`;
              list.push({ label: `${endpoint.name} Basic ${JSON.stringify(c)}`, endpoint, send: () => send(endpoint, fields, 'form', { authorization }) });
            }
          }
        }
      }
    }
    return list;
  }

  /** Runs the probes a few at a time; returns the ones whose answer was wrong. */
  async function runAll(list: Probe[]): Promise<string[]> {
    const wrong: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const probe = list[next++]!;
        const res = await probe.send();
        const problem = judge(probe.endpoint, res, probe.error ?? probe.endpoint.error ?? 'invalid_request');
        if (problem) wrong.push(`${probe.label}: ${problem} (${res.status} ${res.body.slice(0, 160)})`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    return wrong;
  }

  function judge(endpoint: Endpoint, res: { status: number; contentType: string; body: string }, error: string): string | undefined {
    if (res.status >= 500) return 'server error';
    if (res.status !== 400) return 'expected 400';
    if (endpoint.face === 'page') return res.contentType.includes('text/html') && res.body.includes('Bad request') ? undefined : 'expected the Bad request page';
    const body = JSON.parse(res.body) as { error?: string; error_description?: string };
    if (body.error !== error || !/control characters/.test(body.error_description ?? '')) return `expected ${error} naming control characters`;
    return undefined;
  }

  test('every probe is refused with 400 in the face format, and nothing stored changes', async () => {
    const before = await stored();
    const list = probes();
    expect(list.length).toBeGreaterThan(400);
    const started = Date.now();
    const wrong = await runAll(list);
    expect(wrong).toEqual([]);
    const after = await stored();
    expect(after).toBe(before);
    // The well-formed requests still get their ordinary answers (the refusals were the characters).
    const token = await send(endpoints[2]!, endpoints[2]!.params, 'form');
    expect(token.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  test('registration refuses control characters inside its metadata lists with the RFC 7591 codes', async () => {
    const before = await stored();
    const base = { client_name: 'Sweep', token_endpoint_auth_method: 'none', redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code'] };
    for (const c of CONTROL_CHARACTERS) {
      for (const [field, value, error] of [
        ['redirect_uris', [`https://app.example/cb${c}`], 'invalid_redirect_uri'],
        ['redirect_uris', [`https://app.exa${c}mple/cb`], 'invalid_redirect_uri'],
        ['grant_types', [`authorization_code${c}`], 'invalid_client_metadata'],
        ['response_types', [`code${c}`], 'invalid_client_metadata'],
      ] as const) {
        const res = await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, [field]: value }) });
        expect([field, JSON.stringify(c), res.status, ((await res.json()) as { error: string }).error]).toEqual([field, JSON.stringify(c), 400, error]);
      }
    }
    // Tabs and newlines too, which the URL parser would otherwise drop silently.
    for (const uri of ['https://app.example/c\tb', 'https://app.example/cb\n']) {
      const res = await fetch(`${server.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, redirect_uris: [uri] }) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_redirect_uri');
    }
    expect(await stored()).toBe(before);
  });

  test('a Bearer token with a control character never reaches a handler', async () => {
    for (const c of CONTROL_CHARACTERS) {
      const status = await new Promise<number>((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        const socket = connect(Number(port), hostname, () =>
          socket.write(`GET /oauth/userinfo HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer a${c}b\r\nConnection: close\r\n\r\n`),
        );
        let data = '';
        socket.setEncoding('utf8');
        socket.on('data', (d: string) => (data += d));
        socket.on('error', reject);
        socket.on('end', () => resolve(Number(data.split(' ')[1])));
      });
      // Node's HTTP parser refuses control characters in header values before the application runs.
      expect(status).toBe(400);
    }
  });
});
