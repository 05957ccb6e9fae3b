// A small keep-alive HTTP client (node:http) for what autocannon cannot do: setup calls, the
// per-session login loops of scenario 5, the per-code polling schedule of scenario 4. Latency is timed
// from the call, so waiting for a free socket in the agent counts, as it would for a real client.
import { Agent, request } from 'node:http';

export class HttpError extends Error {}

export function httpClient(baseUrl, { maxSockets = 64, timeoutMs = 10_000 } = {}) {
  const { hostname, port } = new URL(baseUrl);
  // An idle pooled socket is dropped after 4 s, before the server's keep-alive timeout (Node's 5 s)
  // closes it: otherwise a request sent on a socket the server is closing at that moment fails with
  // ECONNRESET, a race of the client's pool rather than an answer of the server's.
  const agent = new Agent({ keepAlive: true, maxSockets, timeout: 4_000 });
  function call(method, path, { headers = {}, body } = {}) {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ host: hostname, port, method, path, headers: body === undefined ? headers : { 'content-length': Buffer.byteLength(body), ...headers }, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 });
        });
        res.on('error', reject);
      });
      // A request with no answer in time is an error of the scenario, not a hang of the bench. Counted
      // from the call, like autocannon's timeout (a socket timeout would not count the wait for a socket).
      const deadline = setTimeout(() => req.destroy(new HttpError(`${method} ${path}: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
      req.end(body);
    });
  }
  return {
    call,
    get: (path, headers) => call('GET', path, { headers }),
    postForm: (path, fields, headers = {}) =>
      call('POST', path, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() }),
    postJson: (path, value, headers = {}) => call('POST', path, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(value) }),
    close: () => agent.destroy(),
  };
}

export function basicAuth(id, secret) {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

/** `name=value; …` from a response's Set-Cookie headers, merged over `previous`. */
export function cookiesFrom(res, previous = '') {
  const jar = new Map(previous ? previous.split('; ').map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]) : []);
  for (const line of res.headers['set-cookie'] ?? []) {
    const [pair] = line.split(';');
    const eq = pair.indexOf('=');
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

/**
 * One sign-in through the pages, as a browser does it: GET /login (session cookie + the form's CSRF
 * token), POST /login. Success is a 302 to somewhere other than /login; anything else (the form again
 * with an error, 401, 429, 5xx) is a failure. Returns the signed-in session's cookies.
 */
export async function signIn(client, username, password) {
  const t0 = performance.now();
  const page = await client.get('/login');
  const csrf = /name="_csrf" value="([^"]*)"/.exec(page.body)?.[1];
  if (page.status !== 200 || !csrf) return { ok: false, why: `GET /login answered ${page.status} without a CSRF token`, ms: performance.now() - t0 };
  const cookie = cookiesFrom(page);
  const res = await client.postForm('/login', { _csrf: csrf, redirect: '/', username, password }, { cookie });
  const location = res.headers.location ?? '';
  const ok = res.status === 302 && !location.startsWith('/login') && !location.includes('/login?');
  return { ok, why: ok ? '' : `POST /login answered ${res.status} ${location || res.body.slice(0, 120)}`, cookie: cookiesFrom(res, cookie), ms: performance.now() - t0 };
}
