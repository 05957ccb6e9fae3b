// Browser sessions in Redis (SESSION_STORE=redis): two instances behind one issuer share them (a
// sign-in on A works on B, a sign-out or an ending on one is honoured by the other), GraphQL lists,
// pages and ends them from the store, both expiries are Redis's own, an ended session cannot be
// written back by a request that was in flight, and nothing lands in the `sessions` table. The
// session-ending administrative changes (disable, password reset, password change) run against both
// stores and audit exactly what they ended. Redis parts need TEST_REDIS_URL.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';
import { sha256Hex } from '../../src/domain/crypto.js';
import { createLogger } from '../../src/ops/logger.js';
import { Metrics } from '../../src/ops/metrics.js';
import { RedisSessionStore } from '../../src/services/session-store.js';
import { SessionService } from '../../src/services/sessions.js';
import { hashPassword } from '../helpers/passwords.js';
import { findForm, ScriptedBrowser } from '../helpers/browser.js';
import { req } from '../helpers/grants.js';
import { codes, deviceFlowToken, gql } from '../helpers/graphql.js';
import { freePort, SESSION_STORES, startTestServer, type TestServer } from '../helpers/server.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
const PASSWORD = 'session-user-password-1';
const ADMIN = { userId: null, username: 'admin', isAdmin: true } as const;

const SESSIONS = `query ($first: Int, $after: String) {
  viewer { sessions(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id current userAgent } } } }
}`;
const NODE = 'query ($id: ID!) { node(id: $id) { id ... on Session { current user { username } } } }';
const REVOKE = 'mutation ($id: ID!) { revokeMySession(id: $id) { revokedId } }';

type SessionList = { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: { id: string; current: boolean } }[] };

describe('SESSION_STORE', () => {
  test('is database or redis; redis needs Redis configured (startup error naming the variable)', () => {
    const base = { DATA_DIR: '/tmp', BASE_URL: 'http://127.0.0.1:1' };
    expect(loadConfig(base).sessionStore).toBe('database');
    expect(() => loadConfig({ ...base, SESSION_STORE: 'redis' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, SESSION_STORE: 'redis' })).toThrow(/SESSION_STORE=redis needs Redis/);
    expect(() => loadConfig({ ...base, SESSION_STORE: 'memcached' })).toThrow(/SESSION_STORE/);
    expect(loadConfig({ ...base, SESSION_STORE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379' }).sessionStore).toBe('redis');
  });
});

describeRedis('sessions in Redis shared by two instances', () => {
  let a: TestServer;
  let b: AuthGate;
  let bUrl: string;
  let redis: Redis;
  let prefix: string;
  beforeAll(async () => {
    a = await startTestServer({ SESSION_STORE: 'redis' });
    b = await createAuthGate(a.config, createLogger('silent'));
    const port = await freePort();
    await b.listen(port, '127.0.0.1');
    bUrl = `http://127.0.0.1:${port}`;
    redis = new Redis(REDIS_URL!);
    prefix = a.config.redisKeyPrefix;
  }, 30_000);
  afterAll(async () => {
    // Nothing of any test was written to the sessions table.
    expect(await a.authgate.db.session.count()).toBe(0);
    redis.disconnect();
    await b.close();
    await a.close();
  });

  async function newUser(): Promise<{ id: string; username: string }> {
    const username = `u-${randomUUID().slice(0, 8)}`;
    return a.authgate.db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) }, select: { id: true, username: true } });
  }
  async function signIn(url: string, username: string): Promise<ScriptedBrowser> {
    const browser = new ScriptedBrowser(url);
    expect((await browser.login(username, PASSWORD)).status).toBe(302);
    return browser;
  }
  const signedIn = async (browser: ScriptedBrowser) => (await browser.get('/account/browser-sessions')).status === 200;
  const list = async (browser: ScriptedBrowser, vars: Record<string, unknown> = { first: 20 }) => {
    const res = await gql<{ viewer: { sessions: SessionList } }>(a, SESSIONS, vars, { browser });
    expect(res.errors).toBeUndefined();
    return res.data!.viewer.sessions;
  };
  const rawId = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':')[1]!;

  test('a session signed in on A works on B; signing out on A ends it on B; the table stays empty', async () => {
    const user = await newUser();
    const onA = await signIn(a.url, user.username);
    const onB = onA.at(bUrl);
    expect(await signedIn(onB)).toBe(true);
    const sessions = await list(onB);
    expect(sessions.totalCount).toBe(1);
    expect(sessions.edges[0]!.node.current).toBe(true);
    const id = rawId(sessions.edges[0]!.node.id);
    expect(await redis.exists(`${prefix}session:${id}`)).toBe(1);
    expect(await redis.zrange(`${prefix}user-sessions:${user.id}`, 0, -1)).toEqual([id]);
    expect(await a.authgate.db.session.count()).toBe(0);

    // The cookie as it is before the sign-out, to be replayed on B afterwards.
    const replay = new ScriptedBrowser(bUrl);
    (replay as unknown as { cookies: Map<string, string> }).cookies = new Map((onB as unknown as { cookies: Map<string, string> }).cookies);
    const { _csrf } = findForm((await onA.get('/account/browser-sessions')).html, '/logout').hidden;
    expect((await onA.post('/logout', { _csrf: _csrf! })).location).toBe('/login');
    expect(await signedIn(replay)).toBe(false);
    expect(await redis.exists(`${prefix}session:${id}`)).toBe(0);
    expect(await redis.zcard(`${prefix}user-sessions:${user.id}`)).toBe(0);
  }, 30_000);

  test('GraphQL lists, pages and ends sessions from Redis; node(id) finds them; the ended one is out on both instances', async () => {
    const user = await newUser();
    const browsers = [await signIn(a.url, user.username), await signIn(bUrl, user.username), await signIn(a.url, user.username)];
    const mine = browsers[0]!;
    const all = await list(mine);
    expect(all.totalCount).toBe(3);
    // The sessions_active gauge's count, from Redis (the first test's session ended at its sign-out).
    expect(await a.authgate.services.sessions.countActive()).toBe(3);
    expect(all.edges.filter((e) => e.node.current)).toHaveLength(1);
    // Paged: two, then the last one, with the relay shape kept.
    const first = await list(mine, { first: 2 });
    expect([first.edges.length, first.totalCount, first.pageInfo.hasNextPage]).toEqual([2, 3, true]);
    const rest = await list(mine, { first: 2, after: first.pageInfo.endCursor });
    expect([rest.edges.length, rest.pageInfo.hasNextPage]).toEqual([1, false]);
    expect(new Set([...first.edges, ...rest.edges].map((e) => e.node.id))).toEqual(new Set(all.edges.map((e) => e.node.id)));

    const other = all.edges.find((e) => !e.node.current)!.node.id;
    const node = await gql(a, NODE, { id: other }, { browser: mine.at(bUrl) });
    expect(node.data).toEqual({ node: { id: other, current: false, user: { username: user.username } } });
    // Another user's session is NOT_FOUND, as in the database store.
    const stranger = await signIn(a.url, (await newUser()).username);
    expect(codes(await gql(a, NODE, { id: other }, { browser: stranger }))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(a, REVOKE, { id: other }, { browser: stranger, headers: { origin: a.url } }))).toEqual(['NOT_FOUND']);

    const ended = await gql(a, REVOKE, { id: other }, { browser: mine.at(bUrl), headers: { origin: a.url } });
    expect(ended.errors).toBeUndefined();
    const stillIn = await Promise.all(browsers.map(async (br) => [await signedIn(br), await signedIn(br.at(bUrl))]));
    expect(stillIn.filter(([x, y]) => x && y)).toHaveLength(2);
    expect(stillIn.filter(([x, y]) => !x && !y)).toHaveLength(1);
    expect((await list(mine)).totalCount).toBe(2);
    const event = await a.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'SESSION_REVOKED', subjectId: user.id } });
    expect(JSON.parse(event.details!)).toMatchObject({ reason: 'owner_request', sessions_ended: 1 });

    // The administrator's view on user.sessions comes from the same store.
    const admin = (await deviceFlowToken(a, { scope: 'admin' })).access_token;
    const byAdmin = await gql<{ user: { sessions: { totalCount: number } } }>(
      a,
      'query ($id: ID!) { user(id: $id) { sessions(first: 5) { totalCount } } }',
      { id: Buffer.from(`User:${user.id}`).toString('base64') },
      { token: admin },
    );
    expect(byAdmin.data!.user.sessions.totalCount).toBe(2);

    const others = await gql(a, 'mutation { revokeMyOtherSessions { sessionsEnded } }', {}, { browser: mine, headers: { origin: a.url } });
    expect(others.data).toEqual({ revokeMyOtherSessions: { sessionsEnded: 1 } });
    expect((await list(mine.at(bUrl))).edges.map((e) => e.node.current)).toEqual([true]);
  }, 60_000);

  test('a user disabled on A cannot use a session on B: the session is gone from Redis and the count is audited', async () => {
    const user = await newUser();
    const onB = await signIn(bUrl, user.username);
    await signIn(a.url, user.username);
    const result = await a.authgate.services.userAdmin.disable(user.id, ADMIN, req);
    expect(result.sessionsEnded).toBe(2);
    expect(await signedIn(onB)).toBe(false);
    expect(await redis.zcard(`${prefix}user-sessions:${user.id}`)).toBe(0);
    const event = await a.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'USER_DISABLED', subjectId: user.id } });
    expect(JSON.parse(event.details!)).toMatchObject({ sessions_ended: 2 });
  }, 30_000);

  test('an ended session is not written back by a request that was in flight', async () => {
    const user = await newUser();
    const browser = await signIn(a.url, user.username);
    const id = rawId((await list(browser)).edges[0]!.node.id);
    const session = await a.authgate.services.sessions.store.get(id);
    expect(session).not.toBeNull();
    expect(await a.authgate.services.sessions.store.endOne(id, user.id)).toBe(true);
    // What koa-session does at the end of a request that read the session before it was ended.
    await a.authgate.services.sessions.store.set(id, { ...session!, expiresAt: new Date(Date.now() + 60_000), existing: true });
    expect(await a.authgate.services.sessions.store.get(id)).toBeNull();
    expect(await signedIn(browser)).toBe(false);
  }, 30_000);
});

describeRedis('Redis session expiry', () => {
  let redis: Redis;
  const prefix = `authgate-test:${randomUUID()}:`;
  beforeAll(() => {
    redis = new Redis(REDIS_URL!);
  });
  afterAll(() => redis.disconnect());
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  test('idle: a session unused for the idle timeout is gone (Redis expires the key and drops it from the index)', async () => {
    // Seconds, below what configuration allows, so the test runs in real time against real Redis.
    const sessions = new SessionService(new RedisSessionStore(redis, prefix, 5000), { maxAge: 10, idleTimeout: 2 }, new Metrics());
    await sessions.set('cookie-idle', { userId: 'user-idle' }, {});
    const pttl = await redis.pttl(`${prefix}session:${sha256Hex('cookie-idle')}`);
    expect(pttl).toBeGreaterThan(1000);
    expect(pttl).toBeLessThanOrEqual(2000);
    await sleep(1200);
    expect(await sessions.get('cookie-idle')).toMatchObject({ userId: 'user-idle' });
    await sessions.set('cookie-idle', { userId: 'user-idle' }, {}); // used: rolled on
    await sleep(1200);
    expect(await sessions.get('cookie-idle')).not.toBeNull();
    await sleep(2200);
    expect(await redis.exists(`${prefix}session:${sha256Hex('cookie-idle')}`)).toBe(0);
    expect(await sessions.get('cookie-idle')).toBeNull();
    expect(await sessions.listForUser('user-idle')).toEqual([]);
    expect(await sessions.countActive()).toBe(0);
  }, 15_000);

  test('absolute: a session in use ends at its absolute expiry all the same', async () => {
    const sessions = new SessionService(new RedisSessionStore(redis, prefix, 5000), { maxAge: 4, idleTimeout: 3 }, new Metrics());
    const started = Date.now();
    await sessions.set('cookie-abs', { userId: 'user-abs' }, { ip: '10.0.0.1', userAgent: 'test' });
    const data = (await sessions.get('cookie-abs'))!;
    const keepUsing = async () => {
      await sessions.set('cookie-abs', data, {});
      return sessions.get('cookie-abs');
    };
    await sleep(1800);
    expect(await keepUsing()).not.toBeNull();
    await sleep(1600);
    expect(await keepUsing()).not.toBeNull(); // 3.4 s: within both
    const [listed] = await sessions.listForUser('user-abs');
    expect(listed!.absoluteExpiresAt.getTime() - started).toBeLessThanOrEqual(4050);
    expect(listed!.expiresAt.getTime()).toBe(listed!.absoluteExpiresAt.getTime());
    expect(listed).toMatchObject({ ipAddress: '10.0.0.1', userAgent: 'test' });
    await sleep(Math.max(0, started + 4200 - Date.now()));
    expect(await sessions.get('cookie-abs')).toBeNull();
    // A late write (an in-flight request) cannot extend it either.
    await sessions.set('cookie-abs', data, {});
    expect(await sessions.get('cookie-abs')).toBeNull();
    expect(await sessions.listForUser('user-abs')).toEqual([]);
  }, 20_000);
});

// The administrative changes that end a user's sessions, in each store: the count returned and
// audited is what was ended, and the sessions are gone from the store.
describe.each(SESSION_STORES)('ending sessions with a change (sessions in %s)', (sessionStore) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SESSION_STORE: sessionStore });
  }, 30_000);
  afterAll(() => server.close());

  async function userWithSessions(n: number): Promise<{ id: string; browsers: ScriptedBrowser[] }> {
    const username = `u-${randomUUID().slice(0, 8)}`;
    const { id } = await server.authgate.db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) } });
    const browsers: ScriptedBrowser[] = [];
    for (let i = 0; i < n; i++) {
      const browser = new ScriptedBrowser(server.url);
      expect((await browser.login(username, PASSWORD)).status).toBe(302);
      browsers.push(browser);
    }
    return { id, browsers };
  }
  const details = async (eventType: string, subjectId: string) =>
    JSON.parse((await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType, subjectId } })).details!) as Record<string, unknown>;
  const signedIn = async (browser: ScriptedBrowser) => (await browser.get('/account/browser-sessions')).status === 200;

  test('disable ends every session, audited with the count', async () => {
    const { id, browsers } = await userWithSessions(2);
    const { sessionsEnded } = await server.authgate.services.userAdmin.disable(id, ADMIN, req);
    expect(sessionsEnded).toBe(2);
    expect(await details('USER_DISABLED', id)).toMatchObject({ sessions_ended: 2 });
    expect(await server.authgate.services.sessions.listForUser(id)).toEqual([]);
    for (const browser of browsers) expect(await signedIn(browser)).toBe(false);
  }, 30_000);

  test('a password reset ends every session, audited with the count', async () => {
    const { id, browsers } = await userWithSessions(3);
    await server.authgate.services.userAdmin.resetPassword(id, null, ADMIN, req);
    expect(await details('USER_PASSWORD_RESET', id)).toMatchObject({ sessions_ended: 3 });
    expect(await server.authgate.services.sessions.listForUser(id)).toEqual([]);
    for (const browser of browsers) expect(await signedIn(browser)).toBe(false);
  }, 30_000);

  test('changing one’s password keeps this session and ends the others; a refused change ends none', async () => {
    const { id, browsers } = await userWithSessions(3);
    const [keep] = await server.authgate.services.sessions.listForUser(id);
    await expect(server.authgate.services.account.changePassword(id, { currentPassword: 'wrong-password-1', newPassword: 'next-password-1' }, keep!.id, req)).rejects.toThrow();
    expect(await server.authgate.services.sessions.listForUser(id)).toHaveLength(3);
    const { sessionsEnded } = await server.authgate.services.account.changePassword(id, { currentPassword: PASSWORD, newPassword: 'next-password-1' }, keep!.id, req);
    expect(sessionsEnded).toBe(2);
    expect(await details('PASSWORD_CHANGED', id)).toMatchObject({ sessions_ended: 2 });
    expect((await server.authgate.services.sessions.listForUser(id)).map((s) => s.id)).toEqual([keep!.id]);
    expect((await Promise.all(browsers.map(signedIn))).filter(Boolean)).toHaveLength(1);
    if (sessionStore === 'redis') expect(await server.authgate.db.session.count()).toBe(0);
  }, 30_000);
});
