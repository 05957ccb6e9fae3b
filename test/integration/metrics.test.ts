// Prometheus metrics at /metrics: the scrape parses as Prometheus text format (a real parser), AuthGate's
// metric names are there, and the counters move by exactly what a scripted device flow, code flow,
// refresh, revocation, failed sign-in and guessing lockout do. The endpoint is off by default, takes
// only its bearer token when one is set, and no label value carries a client_id, a username, a token,
// an id or a raw path. Each server instance has its own registry.
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { loadConfig } from '../../src/config/env.js';
import { sha256Hex } from '../../src/domain/crypto.js';
import { ConfigError } from '../../src/domain/errors.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { createIntrospector, exchangeCode, freshGrantParties, issueCode, refresh } from '../helpers/grants.js';
import { DEVICE_GRANT, postForm } from '../helpers/oauth.js';
import { waitUntil } from '../helpers/redis-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'scrape-token-for-tests-0123456789abcdef';
const PASSWORD = 'metrics-user-password';

type Scrape = Map<string, PrometheusFamily>;

async function scrape(server: TestServer, token: string | null = TOKEN): Promise<Scrape> {
  const res = await fetch(`${server.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return new Map(parsePrometheusTextFormat(await res.text()).map((family) => [family.name, family]));
}

/** The sum of a family's samples whose labels include `labels` (for a histogram, its observation count). */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const family = s.get(name);
  if (!family) throw new Error(`${name} is not in the scrape`);
  let total = 0;
  for (const sample of family.metrics) {
    if (!Object.entries(labels).every(([k, v]) => sample.labels?.[k] === v)) continue;
    if (family.type === 'HISTOGRAM' && sample.count === undefined) throw new Error(`${name}: read labelled histograms with observed()`);
    total += Number(family.type === 'HISTOGRAM' ? sample.count : sample.value);
  }
  return total;
}

type Expected = [name: string, labels: Record<string, string>, delta: number];

// parse-prometheus-text-format (1.1.1) folds a histogram's samples into one and keeps only unlabelled
// ones; the observation counts of labelled histograms are read from the instance's registry instead.
type Observations = Map<string, { labels: Record<string, string | number>; count: number }[]>;

async function observations(server: TestServer): Promise<Observations> {
  const json = await server.authgate.metrics.registry.getMetricsAsJSON();
  return new Map(
    json
      .filter((metric) => metric.type === ('histogram' as never))
      .map((metric) => [
        metric.name,
        metric.values
          .filter((v) => (v as { metricName?: string }).metricName === `${metric.name}_count`)
          .map((v) => ({ labels: v.labels as Record<string, string | number>, count: v.value })),
      ]),
  );
}

function observed(o: Observations, name: string, labels: Record<string, string> = {}): number {
  const values = o.get(name);
  if (!values) throw new Error(`${name} is not a histogram of the registry`);
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.count, 0);
}

function expectDeltas(before: Scrape, after: Scrape, expected: Expected[]): void {
  const actual = expected.map(([name, labels]) => [name, labels, value(after, name, labels) - value(before, name, labels)]);
  expect(actual).toEqual(expected);
}

function allLabelValues(s: Scrape): string[] {
  return [...s.values()].flatMap((family) => family.metrics.flatMap((sample) => Object.values(sample.labels ?? {})));
}

const AUTHGATE_NAMES = [
  'oauth_device_codes_total',
  'oauth_device_codes_authorized_total',
  'oauth_device_code_validation_total',
  'oauth_device_codes_active',
  'oauth_device_codes_pending_authorization',
  'oauth_device_code_authorization_duration_seconds',
  'oauth_tokens_issued_total',
  'oauth_tokens_revoked_total',
  'oauth_tokens_refreshed_total',
  'oauth_token_validation_total',
  'oauth_tokens_active',
  'oauth_token_generation_duration_seconds',
  'oauth_token_validation_duration_seconds',
  'auth_attempts_total',
  'auth_login_total',
  'auth_logout_total',
  'auth_oauth_callback_total',
  'auth_login_duration_seconds',
  'auth_external_api_duration_seconds',
  'sessions_active',
  'sessions_created_total',
  'sessions_expired_total',
  'sessions_invalidated_total',
  'session_duration_seconds',
  'http_requests_total',
  'http_request_duration_seconds',
  'http_requests_in_flight',
];
const OWN_NAMES = [
  'rate_limit_hits_total',
  'rate_limit_backend_errors_total',
  'audit_events_dropped_total',
  'audit_buffer_depth',
  'database_query_duration_seconds',
  'cache_hits_total',
  'cache_misses_total',
  'cache_invalidations_unconfirmed_total',
  'nodejs_eventloop_lag_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
];

describe('/metrics with METRICS_TOKEN', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      METRICS_ENABLED: 'true',
      METRICS_TOKEN: TOKEN,
      METRICS_GAUGE_UPDATE_INTERVAL: '1s',
      ENABLE_TOKEN_ROTATION: 'true',
      REFRESH_TOKEN_ROTATION_GRACE: '0',
    });
  });
  afterAll(() => server.close());

  test('without the token, with a wrong one or another scheme: 401 with a Bearer challenge; with it: the text format', async () => {
    const get = (headers: Record<string, string>) => fetch(`${server.url}/metrics`, { headers });
    for (const headers of [{} as Record<string, string>, { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }, { authorization: `Bearer ${TOKEN}extra` }, { authorization: `Basic ${btoa(`x:${TOKEN}`)}` }, { authorization: TOKEN }]) {
      const res = await get(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).not.toContain('oauth_');
    }
    const s = await scrape(server);
    for (const name of [...AUTHGATE_NAMES, ...OWN_NAMES]) expect(s.has(name) ? name : `${name} missing`).toBe(name);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  test('a device flow, a code flow, a refresh, a revocation, a failed sign-in and a lockout move the counters by exactly their amounts', async () => {
    const db = server.authgate.db;
    const username = `metrics-${randomUUID().slice(0, 8)}`;
    const user = await db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) } });
    const client = await createClient(server, { type: 'public', scopes: 'openid profile offline_access read' });
    const introspector = await createIntrospector(server);
    const seen: string[] = [username, user.id, client.clientId, introspector.clientId, server.cliClientId, introspector.secret];
    const before = await scrape(server);
    const observedBefore = await observations(server);

    // --- Device flow: request, one pending poll, the user signs in and approves, the poll that gets tokens.
    const device = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'profile read' });
    expect(device.status).toBe(200);
    const deviceCode = device.json.device_code as string;
    seen.push(deviceCode, device.json.user_code as string);
    const poll = () => postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: server.cliClientId });
    expect((await poll()).json.error).toBe('authorization_pending');
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login(username, PASSWORD)).status).toBe(302);
    const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: device.json.user_code as string });
    expect(confirm.status).toBe(200);
    expect((await browser.submit(confirm, '/device/verify', { action: 'approve' })).html).toContain('Device connected');
    await new Promise((r) => setTimeout(r, 1100)); // DEVICE_CODE_POLLING_INTERVAL=1 in the test server
    const deviceTokens = await poll();
    expect(deviceTokens.status).toBe(200);
    seen.push(deviceTokens.json.access_token as string, deviceTokens.json.refresh_token as string);

    // --- Code flow with PKCE: the signed-in user consents, the client exchanges the code.
    const verifier = randomUUID() + randomUUID();
    const authorize = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope: 'offline_access read',
      state: 'st',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    const consent = await browser.get(`/oauth/authorize?${authorize}`);
    expect(consent.status).toBe(200);
    const approved = await browser.submit(consent, '/oauth/authorize', { decision: 'approve' });
    const code = new URL(approved.location!).searchParams.get('code')!;
    seen.push(code);
    const exchanged = await postForm(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, client_id: client.clientId, code_verifier: verifier });
    expect(exchanged.status).toBe(200);
    seen.push(exchanged.json.access_token as string, exchanged.json.refresh_token as string);

    // --- A refresh (rotation on: the old refresh token is revoked, a new one issued).
    const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: exchanged.json.refresh_token as string, client_id: client.clientId });
    expect(refreshed.status).toBe(200);
    const newRefresh = refreshed.json.refresh_token as string;
    seen.push(refreshed.json.access_token as string, newRefresh);
    const info = await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${refreshed.json.access_token as string}` } });
    expect(info.status).toBe(200);

    // --- A revocation (RFC 7009) of the new refresh token: its family goes with it.
    const family = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(newRefresh) } });
    seen.push(family.id, family.familyId, family.jti);
    const familyLive = await db.token.count({ where: { familyId: family.familyId, status: { not: 'revoked' } } });
    expect(familyLive).toBe(3); // the code's access token, the new refresh token, the refreshed access token
    expect((await postForm(`${server.url}/oauth/revoke`, { token: newRefresh })).status).toBe(200);
    const introspected = await postForm(`${server.url}/oauth/introspect`, { token: newRefresh, client_id: introspector.clientId, client_secret: introspector.secret });
    expect(introspected.json).toEqual({ active: false });

    // --- A failed sign-in, then a guesser locked out of an account after five failures.
    expect((await new ScriptedBrowser(server.url).login(username, 'wrong-password')).status).toBe(401);
    const target = `nobody-${randomUUID().slice(0, 8)}`;
    seen.push(target);
    const guesser = new ScriptedBrowser(server.url);
    for (let i = 0; i < 5; i++) expect((await guesser.login(target, `guess-${i}`)).status).toBe(401);
    expect((await guesser.login(target, 'guess-5')).status).toBe(429);

    // --- The user signs out.
    const out = await browser.submit(await browser.get('/logout'), '/logout', {});
    expect(out.status).toBe(302);

    const after = await scrape(server);
    expectDeltas(before, after, [
      ['oauth_device_codes_total', { result: 'success' }, 1],
      ['oauth_device_codes_total', {}, 1],
      ['oauth_device_codes_authorized_total', {}, 1],
      ['oauth_device_code_authorization_duration_seconds', {}, 1],
      ['oauth_device_code_validation_total', { result: 'pending' }, 1],
      ['oauth_device_code_validation_total', { result: 'success' }, 1],
      ['oauth_device_code_validation_total', {}, 2],
      ['oauth_tokens_issued_total', { token_type: 'access', grant_type: 'device_code' }, 1],
      ['oauth_tokens_issued_total', { token_type: 'refresh', grant_type: 'device_code' }, 1],
      ['oauth_tokens_issued_total', { token_type: 'access', grant_type: 'authorization_code' }, 1],
      ['oauth_tokens_issued_total', { token_type: 'refresh', grant_type: 'authorization_code' }, 1],
      ['oauth_tokens_issued_total', { token_type: 'access', grant_type: 'refresh_token' }, 1],
      ['oauth_tokens_issued_total', { token_type: 'refresh', grant_type: 'refresh_token' }, 1],
      ['oauth_tokens_issued_total', {}, 6],
      ['oauth_tokens_refreshed_total', { result: 'success' }, 1],
      ['oauth_tokens_refreshed_total', {}, 1],
      ['oauth_tokens_revoked_total', { reason: 'rotation' }, 1],
      ['oauth_tokens_revoked_total', { reason: 'user_request' }, familyLive],
      ['oauth_tokens_revoked_total', {}, 1 + familyLive],
      ['oauth_token_validation_total', { result: 'valid' }, 1],
      ['oauth_token_validation_total', { result: 'invalid' }, 1],
      ['oauth_token_validation_total', {}, 2],
      ['auth_login_total', { auth_source: 'local', result: 'success' }, 1],
      ['auth_login_total', { auth_source: 'local', result: 'failure' }, 7],
      ['auth_login_total', {}, 8],
      // The lockout's attempt never reached the password check.
      ['auth_attempts_total', { method: 'local', result: 'success' }, 1],
      ['auth_attempts_total', { method: 'local', result: 'failure' }, 6],
      ['rate_limit_hits_total', { limit: 'login_subject' }, 1],
      ['rate_limit_hits_total', {}, 1],
      ['sessions_created_total', {}, 1],
      ['auth_logout_total', {}, 1],
      ['sessions_expired_total', { reason: 'logout' }, 1],
      ['session_duration_seconds', {}, 1],
      ['http_requests_total', { method: 'POST', path: '/oauth/token', status: '200' }, 3],
      ['http_requests_total', { method: 'POST', path: '/oauth/token', status: '400' }, 1],
      ['http_requests_total', { method: 'POST', path: '/oauth/device/code', status: '200' }, 1],
      ['http_requests_total', { method: 'POST', path: '/oauth/revoke', status: '200' }, 1],
      ['http_requests_total', { method: 'POST', path: '/login', status: '429' }, 1],
      ['http_requests_total', { method: 'GET', path: '/oauth/authorize', status: '200' }, 1],
    ]);
    const observedAfter = await observations(server);
    const timed = (name: string, labels: Record<string, string>) => observed(observedAfter, name, labels) - observed(observedBefore, name, labels);
    expect(timed('oauth_token_generation_duration_seconds', { provider: 'local' })).toBe(3);
    expect(timed('oauth_token_validation_duration_seconds', { provider: 'local' })).toBe(2);
    expect(timed('auth_login_duration_seconds', { method: 'local' })).toBe(8);
    // Database work was timed, by model and operation (the issuing transactions' inserts included).
    expect(timed('database_query_duration_seconds', { model: 'Token', operation: 'createMany' })).toBe(3);
    expect(timed('http_request_duration_seconds', { method: 'POST', path: '/oauth/token' })).toBe(4);

    // Route templates, never raw paths: an id in the path and a path no route knows.
    const probe = randomUUID();
    seen.push(probe);
    await browser.get(`/admin/clients/${probe}`);
    expect((await fetch(`${server.url}/no/such/${probe}`)).status).toBe(404);
    const last = await scrape(server);
    expect(value(last, 'http_requests_total', { path: '/admin/clients/:id' })).toBeGreaterThan(0);
    expect(value(last, 'http_requests_total', { method: 'GET', path: 'unmatched', status: '404' })).toBeGreaterThan(0);

    // No label value carries a client_id, username, token, code or id, or a raw path.
    const labels = allLabelValues(last);
    expect(labels.length).toBeGreaterThan(100);
    for (const secret of seen) expect(labels.filter((label) => label.includes(secret))).toEqual([]);
    expect(labels.filter((label) => /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(label))).toEqual([]);
    expect(labels.filter((label) => label.length > 60 || /^eyJ/.test(label))).toEqual([]);
    const paths = new Set((last.get('http_requests_total')?.metrics ?? []).map((sample) => sample.labels!.path!));
    for (const path of paths) expect(path === 'unmatched' || /^\/[\w./:-]*$/.test(path) ? path : `raw ${path}`).toBe(path);
  }, 60_000);

  test('a replayed refresh token or authorization code revokes what it produced: counted as reason "security"', async () => {
    const db = server.authgate.db;
    const { user, client } = await freshGrantParties(server);
    const code = await issueCode(server, user, client);
    const first = await exchangeCode(server, client, code);
    expect(first.status).toBe(200);
    const rotated = await refresh(server, client, first.json.refresh_token as string);
    expect(rotated.status).toBe(200);
    const { familyId } = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(rotated.json.refresh_token as string) } });
    const live = () => db.token.count({ where: { familyId, status: { not: 'revoked' } } });
    const liveBefore = await live();
    expect(liveBefore).toBe(3);
    const before = await scrape(server);
    expect((await refresh(server, client, first.json.refresh_token as string)).json.error).toBe('invalid_grant');
    expect(await live()).toBe(0);
    // The code's family is already gone: its replay finds nothing more to revoke, and is counted as such.
    expect((await exchangeCode(server, client, code)).json.error).toBe('invalid_grant');
    expectDeltas(before, await scrape(server), [
      ['oauth_tokens_revoked_total', { reason: 'security' }, liveBefore],
      ['oauth_tokens_revoked_total', {}, liveBefore],
      ['oauth_tokens_refreshed_total', { result: 'error' }, 1],
      ['oauth_tokens_issued_total', {}, 0],
    ]);
  }, 30_000);

  test('signed-in sessions ending by idle timeout, by absolute age, and because their user was disabled are counted by reason', async () => {
    const db = server.authgate.db;
    const signedIn = async () => {
      const username = `sess-${randomUUID().slice(0, 8)}`;
      const user = await db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) } });
      const browser = new ScriptedBrowser(server.url);
      expect((await browser.login(username, PASSWORD)).status).toBe(302);
      expect((await browser.get('/device')).status).toBe(200);
      return { user, browser };
    };
    const idle = await signedIn();
    const aged = await signedIn();
    const disabled = await signedIn();
    const before = await scrape(server);
    const past = new Date(Date.now() - 1000);
    await db.session.updateMany({ where: { userId: idle.user.id }, data: { expiresAt: past } });
    await db.session.updateMany({ where: { userId: aged.user.id }, data: { expiresAt: past, absoluteExpiresAt: past } });
    await db.user.update({ where: { id: disabled.user.id }, data: { active: false } });
    // Written behind the services' back: the user cache is told, as the services would.
    await server.authgate.caches.userChanged(disabled.user.id);
    for (const { browser } of [idle, aged, disabled]) expect((await browser.get('/device')).location).toMatch(/^\/login/);
    expectDeltas(before, await scrape(server), [
      ['sessions_expired_total', { reason: 'idle_timeout' }, 1],
      ['sessions_expired_total', { reason: 'timeout' }, 1],
      ['sessions_invalidated_total', { reason: 'user_inactive' }, 1],
      ['session_duration_seconds', {}, 3],
      ['sessions_created_total', {}, 0],
    ]);
  }, 30_000);

  test('gauges that need a database count are refreshed on METRICS_GAUGE_UPDATE_INTERVAL', async () => {
    const db = server.authgate.db;
    const client = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret! });
    expect(issued.status).toBe(200);
    const device = await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId, scope: 'read' });
    expect(device.status).toBe(200);
    const now = new Date();
    const expected = {
      access: await db.token.count({ where: { category: 'access', status: 'active', expiresAt: { gt: now } } }),
      refresh: await db.token.count({ where: { category: 'refresh', status: 'active', expiresAt: { gt: now } } }),
      pending: await db.deviceCode.count({ where: { status: 'pending', expiresAt: { gt: now } } }),
    };
    expect(expected.access).toBeGreaterThan(0);
    expect(expected.pending).toBeGreaterThan(0);
    let s = await scrape(server);
    await waitUntil(async () => {
      s = await scrape(server);
      return value(s, 'oauth_tokens_active', { token_type: 'access' }) === expected.access && value(s, 'oauth_device_codes_pending_authorization') === expected.pending;
    }, 5000, 200);
    expect(value(s, 'oauth_tokens_active', { token_type: 'refresh' })).toBe(expected.refresh);
    expect(value(s, 'oauth_device_codes_active')).toBeGreaterThanOrEqual(expected.pending);
    expect(value(s, 'sessions_active')).toBe(await db.session.count({ where: { userId: { not: null }, expiresAt: { gt: new Date() }, absoluteExpiresAt: { gt: new Date() } } }));
  }, 30_000);
});

describe('/metrics switched off, and without a token', () => {
  let off: TestServer;
  let open: TestServer;
  beforeAll(async () => {
    off = await startTestServer({});
    open = await startTestServer({ METRICS_ENABLED: 'true', METRICS_GAUGE_UPDATE_ENABLED: 'false' });
  });
  afterAll(async () => {
    await off.close();
    await open.close();
  });

  test('METRICS_ENABLED unset: /metrics is an ordinary 404, token or not', async () => {
    expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${off.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    // Nothing is recorded that nothing serves: the instance's registry stays empty under requests.
    expect((await postForm(`${off.url}/oauth/device/code`, { client_id: off.cliClientId, scope: 'read' })).status).toBe(200);
    const recorded = new Map(parsePrometheusTextFormat(await off.authgate.metrics.registry.metrics()).map((family) => [family.name, family]));
    expect(value(recorded, 'oauth_device_codes_total')).toBe(0);
  });

  test('no METRICS_TOKEN: scrapes need no credentials; each instance counts only its own requests', async () => {
    const before = await scrape(open, null);
    expect((await postForm(`${off.url}/oauth/device/code`, { client_id: off.cliClientId, scope: 'read' })).status).toBe(200);
    expect(value(await scrape(open, null), 'oauth_device_codes_total')).toBe(value(before, 'oauth_device_codes_total'));
    expect((await postForm(`${open.url}/oauth/device/code`, { client_id: open.cliClientId, scope: 'read' })).status).toBe(200);
    expect(value(await scrape(open, null), 'oauth_device_codes_total') - value(before, 'oauth_device_codes_total')).toBe(1);
    // Gauge updates off on this replica: the counts are left to another one.
    expect(value(await scrape(open, null), 'oauth_tokens_active')).toBe(0);
  });
});

describe('METRICS_* configuration errors stop startup naming the variable', () => {
  const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'authgate-metrics-config-')), ...env });
  test.each([
    [{ METRICS_ENABLED: 'true', METRICS_TOKEN: 'too-short-token' }, /^METRICS_TOKEN must be at least 32 characters/],
    [{ METRICS_TOKEN: 'a token with spaces in it, 32 characters or more' }, /^METRICS_TOKEN must not contain whitespace/],
    [{ METRICS_GAUGE_UPDATE_INTERVAL: 'every minute' }, /^METRICS_GAUGE_UPDATE_INTERVAL must be a duration/],
    [{ METRICS_GAUGE_UPDATE_INTERVAL: '-5m' }, /^METRICS_GAUGE_UPDATE_INTERVAL must be a duration/],
    [{ METRICS_GAUGE_UPDATE_INTERVAL: '0' }, /^METRICS_GAUGE_UPDATE_INTERVAL must be at least 1 seconds/],
    [{ METRICS_ENABLED: 'perhaps' }, /^METRICS_ENABLED must be true or false/],
    [{ METRICS_GAUGE_UPDATE_ENABLED: 'sometimes' }, /^METRICS_GAUGE_UPDATE_ENABLED must be true or false/],
  ])('%j', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  test('defaults: off; gauges refreshed every 5 minutes when on', () => {
    expect(load({}).metrics).toEqual({ enabled: false, token: undefined, gaugeUpdate: { enabled: true, intervalMs: 300_000 } });
    expect(load({ METRICS_ENABLED: 'true', METRICS_TOKEN: TOKEN, METRICS_GAUGE_UPDATE_INTERVAL: '30s' }).metrics).toEqual({
      enabled: true,
      token: TOKEN,
      gaugeUpdate: { enabled: true, intervalMs: 30_000 },
    });
  });
});
