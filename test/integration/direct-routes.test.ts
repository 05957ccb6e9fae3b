// The hottest protocol routes (/oauth/token, /oauth/introspect, /oauth/tokeninfo) are dispatched
// directly (http/direct-routes.ts) instead of through Koa's chain and routers. Each request below is
// sent twice: to the exact path (direct) and with an empty query string appended, which is the same
// route to the router but not to the direct lookup (the chain answers it). The two answers must be
// the same: status, body and every header except the per-request id and date.
import { createClient } from '../helpers/clients.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let client: { clientId: string; clientSecret?: string };
let basic: string;
let accessToken: string;

beforeAll(async () => {
  server = await startTestServer({ METRICS_ENABLED: 'true', CORS_ALLOWED_ORIGINS: 'https://app.example' });
  client = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
  basic = `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}`;
  const res = await fetch(`${server.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
    body: 'grant_type=client_credentials',
  });
  accessToken = String(((await res.json()) as Record<string, unknown>).access_token);
});

afterAll(() => server.close());

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function send(path: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, init);
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== 'date' && name !== 'x-request-id') headers[name] = value;
  });
  return { status: res.status, headers, body: await res.text() };
}

/** Bodies that carry per-request values (a new token, its jti) are compared by shape. */
function shape(body: string): unknown {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, ['access_token', 'jti', 'exp', 'iat'].includes(k) ? typeof v : v]));
  } catch {
    return body;
  }
}

const cases: [string, string, () => RequestInit][] = [
  ['client_credentials issuance', '/oauth/token', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials' })],
  ['token: wrong secret (401 with a Basic challenge)', '/oauth/token', () => ({ method: 'POST', headers: { ...FORM, authorization: `Basic ${Buffer.from(`${client.clientId}:nope`).toString('base64')}` }, body: 'grant_type=client_credentials' })],
  ['token: unsupported grant type', '/oauth/token', () => ({ method: 'POST', headers: FORM, body: 'grant_type=password&client_id=x' })],
  ['token: repeated parameter', '/oauth/token', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials&scope=read&scope=read' })],
  ['token: a body that is not a form (415)', '/oauth/token', () => ({ method: 'POST', headers: { 'content-type': 'text/plain', authorization: basic }, body: 'grant_type=client_credentials' })],
  ['token: JSON body', '/oauth/token', () => ({ method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: '{"grant_type":"client_credentials"}' })],
  ['token: control character in a parameter', '/oauth/token', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials&scope=re%00ad' })],
  ['token: from an allowed browser origin (CORS headers)', '/oauth/token', () => ({ method: 'POST', headers: { ...FORM, authorization: basic, origin: 'https://app.example' }, body: 'grant_type=client_credentials' })],
  ['introspection of an active token', '/oauth/introspect', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: `token=${accessToken}` })],
  ['introspection of an unknown token', '/oauth/introspect', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: 'token=not-a-token' })],
  ['introspection without client authentication', '/oauth/introspect', () => ({ method: 'POST', headers: FORM, body: `token=${accessToken}` })],
  ['introspection without a token', '/oauth/introspect', () => ({ method: 'POST', headers: { ...FORM, authorization: basic }, body: '' })],
  ['tokeninfo (GET, Bearer)', '/oauth/tokeninfo', () => ({ headers: { authorization: `Bearer ${accessToken}` } })],
  ['tokeninfo (POST, Bearer)', '/oauth/tokeninfo', () => ({ method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })],
  ['tokeninfo with a bad token (401 with a Bearer challenge)', '/oauth/tokeninfo', () => ({ headers: { authorization: 'Bearer a.b.c' } })],
  ['tokeninfo without a token', '/oauth/tokeninfo', () => ({})],
];

test.each(cases)('%s: the direct answer is the chain’s', async (_name, path, init) => {
  const direct = await send(path, init());
  const routed = await send(`${path}?`, init());
  expect(direct.status).toBe(routed.status);
  expect(direct.headers).toEqual(routed.headers);
  expect(shape(direct.body)).toEqual(shape(routed.body));
  // What every answer carries, whichever way it went.
  expect(direct.headers['x-content-type-options']).toBe('nosniff');
  expect(direct.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(Number(direct.headers['content-length'])).toBe(Buffer.byteLength(direct.body));
});

test('each direct answer has its own request id, the caller’s when it sends a sane one', async () => {
  const a = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  const b = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${accessToken}`, 'x-request-id': 'trace-123' } });
  expect(a.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  expect(b.headers.get('x-request-id')).toBe('trace-123');
});

test('other methods on the direct paths are the router’s: 405 with Allow, HEAD like GET', async () => {
  const put = await send('/oauth/token', { method: 'PUT', headers: FORM, body: 'grant_type=client_credentials' });
  expect(put.status).toBe(405);
  expect(put.headers.allow).toContain('POST');
  expect(JSON.parse(put.body)).toMatchObject({ error: 'invalid_request' });
  const head = await fetch(`${server.url}/oauth/tokeninfo`, { method: 'HEAD', headers: { authorization: `Bearer ${accessToken}` } });
  expect(head.status).toBe(200);
  const preflight = await fetch(`${server.url}/oauth/token`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
});

test('direct answers are counted under their route in the request metrics', async () => {
  const count = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('http_requests_total{') && l.includes('path="/oauth/introspect"') && l.includes('status="200"'));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  const before = await count();
  for (let i = 0; i < 3; i++) await send('/oauth/introspect', { method: 'POST', headers: { ...FORM, authorization: basic }, body: `token=${accessToken}` });
  expect(await count()).toBe(before + 3);
});
