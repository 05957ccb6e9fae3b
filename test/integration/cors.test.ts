// CORS on the protocol endpoints only, for allowlisted origins only, and off unless configured.
import { startTestServer, type TestServer } from '../helpers/server.js';

const ALLOWED = 'https://app.example.com';
const OTHER = 'https://evil.example';

function corsHeaders(res: Response): string[] {
  return [...res.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

function preflight(server: TestServer, path: string, origin: string) {
  return fetch(`${server.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });
}

describe('CORS with an allowlist', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ALLOWED_ORIGINS: `${ALLOWED}, https://second.example.com` });
  });
  afterAll(() => server.close());

  test('an allowed origin reading discovery gets its origin back, Vary: Origin, and WWW-Authenticate exposed', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
    // No credentials mode: nothing on these endpoints uses cookies.
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    const second = await fetch(`${server.url}/.well-known/jwks.json`, { headers: { origin: 'https://second.example.com' } });
    expect(second.headers.get('access-control-allow-origin')).toBe('https://second.example.com');
  });

  test('error answers carry the headers too, so a browser app can read the error and the challenge', async () => {
    const res = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x&client_id=nobody',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
  });

  test('a preflight from an allowed origin: 204 with methods, headers and max-age', async () => {
    const res = await preflight(server, '/oauth/token', ALLOWED);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    // AuthGate's defaults for CORS_ALLOWED_METHODS, CORS_ALLOWED_HEADERS and CORS_MAX_AGE (12h).
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, DELETE, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe('Origin, Content-Type, Authorization');
    expect(res.headers.get('access-control-max-age')).toBe('43200');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
    expect(await res.text()).toBe('');
  });

  test('a disallowed origin gets no CORS headers; its preflight is a bare 204', async () => {
    for (const origin of [OTHER, 'null', `${ALLOWED}.evil.example`, 'http://app.example.com', `${ALLOWED}:8443`]) {
      const res = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { origin } });
      expect(res.status).toBe(200);
      expect(corsHeaders(res)).toEqual([]);
      // The answer still varies by Origin, so a shared cache keeps the origins apart.
      expect(res.headers.get('vary')).toMatch(/\bOrigin\b/);
      const pre = await preflight(server, '/oauth/revoke', origin);
      expect(pre.status).toBe(204);
      expect(corsHeaders(pre)).toEqual([]);
    }
  });

  test('a request without Origin gets no CORS headers', async () => {
    const res = await fetch(`${server.url}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
  });

  test('pages never get CORS headers, even for an allowed origin', async () => {
    for (const path of ['/login', '/device', '/health', '/']) {
      const res = await fetch(`${server.url}${path}`, { headers: { origin: ALLOWED }, redirect: 'manual' });
      expect(corsHeaders(res)).toEqual([]);
      const pre = await preflight(server, path, ALLOWED);
      expect(corsHeaders(pre)).toEqual([]);
    }
  });
});

describe('CORS off by default', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  test('no CORS headers for any origin, and preflights are not answered as CORS', async () => {
    expect(server.config.corsAllowedOrigins).toEqual([]);
    const res = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { origin: ALLOWED } });
    expect(res.status).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
    const pre = await preflight(server, '/oauth/token', ALLOWED);
    expect(corsHeaders(pre)).toEqual([]);
    expect(pre.status).not.toBe(204);
  });
});

describe("CORS as AuthGate's CORS_* variables configure it", () => {
  test('CORS_ALLOWED_METHODS, CORS_ALLOWED_HEADERS and CORS_MAX_AGE shape the preflight answer', async () => {
    const server = await startTestServer({ CORS_ENABLED: 'true', CORS_ALLOWED_ORIGINS: ALLOWED, CORS_ALLOWED_METHODS: 'GET,POST', CORS_ALLOWED_HEADERS: 'Authorization,Content-Type,X-Request-Id', CORS_MAX_AGE: '10m' });
    try {
      const res = await preflight(server, '/oauth/token', ALLOWED);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(res.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Request-Id');
      expect(res.headers.get('access-control-max-age')).toBe('600');
    } finally {
      await server.close();
    }
  });

  test('CORS_ENABLED=false switches CORS off even with origins listed', async () => {
    const server = await startTestServer({ CORS_ENABLED: 'false', CORS_ALLOWED_ORIGINS: ALLOWED });
    try {
      const res = await fetch(`${server.url}/.well-known/openid-configuration`, { headers: { origin: ALLOWED } });
      expect(corsHeaders(res)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
