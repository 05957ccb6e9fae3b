// The tokens, audit, account and stats parts of the GraphQL API over real HTTP: who may see and do
// what, token lineage through a rotation, holds and revocation, the account's own sessions, apps and
// tokens, the live audit stream's visibility rule, and the dashboard numbers.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { createLogger } from '../../src/ops/logger.js';
import { hashPassword } from '../helpers/passwords.js';
import { codes, deviceFlowToken, gql, signedInBrowser } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { freePort, SESSION_STORES, startTestServer, type TestServer } from '../helpers/server.js';
import { subscribe } from '../helpers/sse.js';
import { captureLog } from '../helpers/log-capture.js';
import {
  AuditEventsDocument,
  ChangeMyPasswordDocument,
  DisableTokenDocument,
  EnableTokenDocument,
  MyAccountDocument,
  OnAuditEventDocument,
  RevokeMyAuthorizationDocument,
  RevokeMyOtherSessionsDocument,
  RevokeMyTokenDocument,
  RevokeSessionDocument,
  RevokeAuthorizationDocument,
  UserAccountDocument,
  RevokeTokenFamilyDocument,
  RevokeTokenDocument,
  StatsDocument,
  TokenLineageDocument,
  TokensDocument,
  type OnAuditEventSubscription,
} from './generated/graphql.js';

const USER_PASSWORD = 'ops-user-password-1';

// Browser sessions in each store (SESSION_STORE): the database, and Redis when TEST_REDIS_URL is set.
describe.each(SESSION_STORES)('GraphQL tokens, audit, account and stats (sessions in %s)', (sessionStore) => {
  let server: TestServer;
  let adminToken: string;
  let userToken: string;
  let userRefresh: string;
  let userId: string;

  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true', SESSION_STORE: sessionStore });
    const user = await server.authgate.db.user.create({ data: { username: 'opsuser', passwordHash: await hashPassword(USER_PASSWORD) } });
    userId = user.id;
    adminToken = (await deviceFlowToken(server, { scope: 'admin' })).access_token;
    const tokens = await deviceFlowToken(server, { scope: 'read offline_access', username: 'opsuser', password: USER_PASSWORD });
    userToken = tokens.access_token;
    userRefresh = tokens.refresh_token!;
  }, 30_000);
  afterAll(() => server.close());

  test('tokens(filter) is for administrators; a user reaches only their own tokens, others are NOT_FOUND', async () => {
    const asUser = await gql(server, TokensDocument, { first: 5 }, { token: userToken });
    expect(codes(asUser)).toEqual(['FORBIDDEN']);
    expect(codes(await gql(server, TokensDocument, { first: 5 }))).toEqual(['UNAUTHENTICATED']);

    const all = await gql(server, TokensDocument, { first: 50, filter: { userId: encodeGlobalID('User', userId) } }, { token: adminToken });
    expect(all.errors).toBeUndefined();
    const mine = all.data!.tokens.edges.map((e) => e.node);
    expect(mine.length).toBeGreaterThanOrEqual(2);
    expect(mine.every((t) => t.user?.username === 'opsuser')).toBe(true);

    const own = await gql(server, TokenLineageDocument, { id: mine[0]!.id }, { token: userToken });
    expect(own.errors).toBeUndefined();
    const admins = await gql(server, TokensDocument, { first: 1, filter: { userId: encodeGlobalID('User', (await admin()).id) } }, { token: adminToken });
    const foreign = await gql(server, TokenLineageDocument, { id: admins.data!.tokens.edges[0]!.node.id }, { token: userToken });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(codes(await gql(server, TokensDocument, { first: 101 }, { token: adminToken }))).toEqual(['BAD_USER_INPUT']);
  });

  test('lineage: after a rotation the family lists every token in order, with parent and children', async () => {
    const rotated = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: userRefresh, client_id: server.cliClientId });
    expect(rotated.status).toBe(200);
    userToken = rotated.json.access_token as string;
    const list = await gql(server, TokensDocument, { first: 10, filter: { userId: encodeGlobalID('User', userId), category: 'ACCESS', status: 'ACTIVE' } }, { token: adminToken });
    const newest = list.data!.tokens.edges[0]!.node;
    const lineage = await gql(server, TokenLineageDocument, { id: newest.id }, { token: adminToken });
    expect(lineage.errors).toBeUndefined();
    const node = lineage.data!.node as Extract<NonNullable<typeof lineage.data>['node'], { family: unknown }>;
    // refresh₀ → access₀, refresh₀ → refresh₁ → access₁ (this one).
    expect(node.family.map((t) => t.category)).toEqual(['REFRESH', 'ACCESS', 'REFRESH', 'ACCESS']);
    expect(node.family.map((t) => t.status)).toEqual(['REVOKED', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    expect(node.parent).toEqual({ id: node.family[2]!.id, category: 'REFRESH' });
    const root = await gql(server, TokenLineageDocument, { id: node.family[0]!.id }, { token: adminToken });
    const rootNode = root.data!.node as typeof node;
    expect(rootNode.children.map((c) => c.id)).toEqual([node.family[1]!.id, node.family[2]!.id]);
    expect(rootNode.grantType).toBe('urn:ietf:params:oauth:grant-type:device_code');
  });

  test('disable, enable, revoke family: effective at once, revoked is final (CONFLICT), audited', async () => {
    const list = await gql(server, TokensDocument, { first: 1, filter: { userId: encodeGlobalID('User', userId), category: 'ACCESS', status: 'ACTIVE' } }, { token: adminToken });
    const id = list.data!.tokens.edges[0]!.node.id;
    const me = () => gql(server, MyAccountDocument, {}, { token: userToken });
    expect((await me()).status).toBe(200);
    expect((await gql(server, DisableTokenDocument, { id }, { token: adminToken })).data!.disableToken.token.status).toBe('DISABLED');
    expect((await me()).status).toBe(401);
    expect((await gql(server, EnableTokenDocument, { id }, { token: adminToken })).data!.enableToken.token.status).toBe('ACTIVE');
    expect((await me()).status).toBe(200);
    const family = await gql(server, RevokeTokenFamilyDocument, { id }, { token: adminToken });
    expect(family.errors).toBeUndefined();
    expect(family.data!.revokeTokenFamily.family.every((t) => t.status === 'REVOKED')).toBe(true);
    expect((await me()).status).toBe(401);
    const again = await gql(server, EnableTokenDocument, { id }, { token: adminToken });
    expect(codes(again)).toEqual(['CONFLICT']);
    await server.authgate.services.audit.flush();
    const events = await gql(server, AuditEventsDocument, { first: 10, filter: { types: ['TOKEN_DISABLED', 'TOKEN_ENABLED', 'TOKEN_FAMILY_REVOKED'] } }, { token: adminToken });
    expect(events.data!.auditEvents.edges.map((e) => e.node.eventType).sort()).toEqual(['TOKEN_DISABLED', 'TOKEN_ENABLED', 'TOKEN_FAMILY_REVOKED']);
    expect(events.data!.auditEvents.edges.every((e) => e.node.severity === 'WARNING' && e.node.actorUsername === 'admin')).toBe(true);
  });

  test('racing admins over HTTP: enable against revoke on a held token always ends REVOKED', async () => {
    const db = server.authgate.db;
    for (let round = 0; round < 10; round++) {
      const fresh = await server.authgate.services.tokens.issue(
        { client: await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } }), user: await db.user.findUniqueOrThrow({ where: { id: userId } }), scopes: ['read'], resources: [], grantType: 'urn:test' },
        { withRefresh: false },
        {},
      );
      const row = (await server.authgate.services.tokens.validateAccessToken(fresh.accessToken)).token;
      const id = encodeGlobalID('Token', row.id);
      await gql(server, DisableTokenDocument, { id }, { token: adminToken });
      const [enable1, revoke, enable2] = await Promise.all([
        gql(server, EnableTokenDocument, { id }, { token: adminToken }),
        gql(server, RevokeTokenDocument, { id }, { token: adminToken }),
        gql(server, EnableTokenDocument, { id }, { token: adminToken }),
      ]);
      expect(revoke.errors).toBeUndefined();
      for (const res of [enable1, enable2]) expect(res.errors === undefined || codes(res).join() === 'CONFLICT').toBe(true);
      expect((await db.token.findUniqueOrThrow({ where: { id: row.id } })).status).toBe('revoked');
      expect((await gql(server, MyAccountDocument, {}, { token: fresh.accessToken })).status).toBe(401);
    }
  }, 30_000);

  test('the account: sessions with this one marked, apps, tokens; ending other sessions; cookie mutations need same-site JSON', async () => {
    const browser = await signedInBrowser(server, 'opsuser', USER_PASSWORD);
    await signedInBrowser(server, 'opsuser', USER_PASSWORD); // a second browser
    const fresh = await deviceFlowToken(server, { scope: 'read', username: 'opsuser', password: USER_PASSWORD });
    const account = await gql(server, MyAccountDocument, {}, { browser });
    expect(account.errors).toBeUndefined();
    const viewer = account.data!.viewer!;
    expect(viewer.sessions.totalCount).toBeGreaterThanOrEqual(2);
    expect(viewer.sessions.edges.filter((e) => e.node.current)).toHaveLength(1);
    expect(viewer.authorizations.edges.map((e) => e.node.client.name)).toEqual(expect.any(Array));
    expect(viewer.tokens.edges.every((e) => e.node.client.name === 'AuthGate CLI')).toBe(true);

    // A plain cross-site form post cannot change anything.
    const forged = await browser.fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ query: 'mutation { revokeMyOtherSessions { sessionsEnded } }' }).toString(),
    });
    const forgedBody = await forged.text();
    expect(forged.status !== 200 || forgedBody.includes('FORBIDDEN')).toBe(true);
    expect(forgedBody).not.toContain('sessionsEnded');
    expect((await gql(server, MyAccountDocument, {}, { browser })).data!.viewer!.sessions.totalCount).toBe(viewer.sessions.totalCount);

    const ended = await gql(server, RevokeMyOtherSessionsDocument, {}, { browser, headers: { origin: server.url } });
    expect(ended.errors).toBeUndefined();
    expect(ended.data!.revokeMyOtherSessions.sessionsEnded).toBe(viewer.sessions.totalCount - 1);
    const after = await gql(server, MyAccountDocument, {}, { browser });
    expect(after.data!.viewer!.sessions.edges.map((e) => e.node.current)).toEqual([true]);

    // Revoking one of my tokens; someone else's is NOT_FOUND.
    const myToken = (await gql(server, MyAccountDocument, {}, { token: fresh.access_token })).data!.viewer!.tokens.edges[0]!.node;
    const adminList = await gql(server, TokensDocument, { first: 1, filter: { userId: encodeGlobalID('User', (await admin()).id) } }, { token: adminToken });
    expect(codes(await gql(server, RevokeMyTokenDocument, { id: adminList.data!.tokens.edges[0]!.node.id }, { browser, headers: { origin: server.url } }))).toEqual(['NOT_FOUND']);
    const revoked = await gql(server, RevokeMyTokenDocument, { id: myToken.id }, { browser, headers: { origin: server.url } });
    expect(revoked.data!.revokeMyToken.token.status).toBe('REVOKED');
  });

  test('revokeMyAuthorization ends the app’s tokens; an admin lists and ends a user’s sessions and apps', async () => {
    const db = server.authgate.db;
    const cli = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
    const user = await db.user.findUniqueOrThrow({ where: { id: userId } });
    await server.authgate.services.consents.grant(user, cli, ['read'], {});
    const fresh = await deviceFlowToken(server, { scope: 'read', username: 'opsuser', password: USER_PASSWORD });
    const account = await gql(server, MyAccountDocument, {}, { token: fresh.access_token });
    const authorization = account.data!.viewer!.authorizations.edges.find((e) => e.node.client.clientId === server.cliClientId)!.node;
    const browser = await signedInBrowser(server, 'opsuser', USER_PASSWORD);
    const res = await gql(server, RevokeMyAuthorizationDocument, { id: authorization.id }, { browser, headers: { origin: server.url } });
    expect(res.errors).toBeUndefined();
    expect(res.data!.revokeMyAuthorization.tokensRevoked).toBeGreaterThanOrEqual(1);
    expect((await gql(server, MyAccountDocument, {}, { token: fresh.access_token })).status).toBe(401);

    // The administrator sees the user's sessions and apps, and ends them; the user cannot use the admin mutations.
    await server.authgate.services.consents.grant(user, cli, ['read'], {});
    const userAccount = async () => (await gql(server, UserAccountDocument, { id: encodeGlobalID('User', userId) }, { token: adminToken })).data!.user!;
    const userOnly = await deviceFlowToken(server, { scope: 'read', username: 'opsuser', password: USER_PASSWORD });
    const listed = await userAccount();
    expect(listed.sessions.totalCount).toBeGreaterThanOrEqual(2);
    const authorizationNode = listed.authorizations.edges.find((e) => e.node.client.clientId === server.cliClientId)!.node;
    expect(codes(await gql(server, UserAccountDocument, { id: encodeGlobalID('User', userId) }, { token: userOnly.access_token }))).toContain('FORBIDDEN');
    expect(codes(await gql(server, RevokeSessionDocument, { id: listed.sessions.edges[0]!.node.id }, { token: userOnly.access_token }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(server, RevokeAuthorizationDocument, { id: authorizationNode.id }, { token: userOnly.access_token }))).toEqual(['FORBIDDEN']);
    const byAdmin = await gql(server, RevokeAuthorizationDocument, { id: authorizationNode.id }, { token: adminToken });
    expect(byAdmin.errors).toBeUndefined();
    expect(byAdmin.data!.revokeAuthorization.tokensRevoked).toBeGreaterThanOrEqual(1);
    expect((await gql(server, MyAccountDocument, {}, { token: userOnly.access_token })).status).toBe(401);
    for (const edge of listed.sessions.edges) expect((await gql(server, RevokeSessionDocument, { id: edge.node.id }, { token: adminToken })).errors).toBeUndefined();
    expect((await userAccount()).sessions.totalCount).toBe(0);
    expect((await gql(server, MyAccountDocument, {}, { browser })).data?.viewer ?? null).toBeNull();
  });

  test('changeMyPassword needs the current password and ends the other sessions', async () => {
    const browser = await signedInBrowser(server, 'opsuser', USER_PASSWORD);
    const other = await signedInBrowser(server, 'opsuser', USER_PASSWORD);
    const wrong = await gql(server, ChangeMyPasswordDocument, { input: { currentPassword: 'nope-nope', newPassword: 'brand-new-pass-1' } }, { browser, headers: { origin: server.url } });
    expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
    // Tagged with its input field, so a form shows it next to that field.
    expect(wrong.errors![0]!.extensions!.field).toBe('currentPassword');
    const short = await gql(server, ChangeMyPasswordDocument, { input: { currentPassword: USER_PASSWORD, newPassword: 'short' } }, { browser, headers: { origin: server.url } });
    expect(codes(short)).toEqual(['BAD_USER_INPUT']);
    expect(short.errors![0]!.extensions!.field).toBe('newPassword');
    const ok = await gql(server, ChangeMyPasswordDocument, { input: { currentPassword: USER_PASSWORD, newPassword: 'brand-new-pass-1' } }, { browser, headers: { origin: server.url } });
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.changeMyPassword.sessionsEnded).toBeGreaterThanOrEqual(1);
    expect((await gql(server, MyAccountDocument, {}, { browser: other })).data?.viewer ?? null).toBeNull();
    expect((await gql(server, MyAccountDocument, {}, { browser })).data!.viewer!.username).toBe('opsuser');
    await signedInBrowser(server, 'opsuser', 'brand-new-pass-1');
  });

  test('changeMyPassword: racing wrong current passwords are limited like sign-ins, before the check, and locked out', async () => {
    await server.authgate.db.user.create({ data: { username: 'guessed', passwordHash: await hashPassword(USER_PASSWORD) } });
    const browser = await signedInBrowser(server, 'guessed', USER_PASSWORD);
    const attempt = (currentPassword: string) =>
      gql(server, ChangeMyPasswordDocument, { input: { currentPassword, newPassword: 'brand-new-pass-2' } }, { browser, headers: { origin: server.url } });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(`wrong-guess-${i}`)));
    const answered = answers.map((a) => codes(a).join());
    // The sign-in limit: 5 failures per account, counted before the password is compared.
    expect(answered.filter((c) => c === 'BAD_USER_INPUT')).toHaveLength(5);
    expect(answered.filter((c) => c === 'TOO_MANY_ATTEMPTS')).toHaveLength(7);
    expect(answers.find((a) => codes(a).join() === 'TOO_MANY_ATTEMPTS')!.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
    // Locked out means the right password is not even checked, and nothing changes.
    expect(codes(await attempt(USER_PASSWORD))).toEqual(['TOO_MANY_ATTEMPTS']);
    await server.authgate.services.audit.flush();
    const db = server.authgate.db;
    expect(await db.auditEvent.count({ where: { eventType: 'PASSWORD_CHANGE_FAILED', actorUsername: 'guessed' } })).toBe(5);
    expect(await db.auditEvent.count({ where: { eventType: 'LOGIN_LOCKED_OUT', actorUsername: 'guessed' } })).toBe(1);
    expect(await db.auditEvent.count({ where: { eventType: 'PASSWORD_CHANGED', actorUsername: 'guessed' } })).toBe(0);
    await db.user.delete({ where: { username: 'guessed' } }); // the dashboard test counts this suite's users
  });

  test('the subscription: a user receives only their own events, an admin all; anonymous is refused', async () => {
    const anonymous = await subscribe<OnAuditEventSubscription>(`${server.url}/graphql`, OnAuditEventDocument, {}, {});
    await expect(anonymous.waitFor(() => true, 2000)).rejects.toThrow();
    expect(JSON.stringify(anonymous.received)).toContain('UNAUTHENTICATED');
    anonymous.close();

    const userLive = await deviceFlowToken(server, { scope: 'read', username: 'opsuser', password: 'brand-new-pass-1' });
    const asUser = await subscribe<OnAuditEventSubscription>(`${server.url}/graphql`, OnAuditEventDocument, {}, { authorization: `Bearer ${userLive.access_token}` });
    const asAdmin = await subscribe<OnAuditEventSubscription>(`${server.url}/graphql`, OnAuditEventDocument, { filter: { types: ['AUTHENTICATION_SUCCESS'] } }, { authorization: `Bearer ${adminToken}` });
    await new Promise((r) => setTimeout(r, 200)); // the subscriptions are registered
    await signedInBrowser(server); // admin signs in
    await signedInBrowser(server, 'opsuser', 'brand-new-pass-1');
    const adminSaw = await asAdmin.waitFor((d) => d.auditEvents.actorUsername === 'opsuser');
    expect(adminSaw.auditEvents.eventType).toBe('AUTHENTICATION_SUCCESS');
    await asAdmin.waitFor((d) => d.auditEvents.actorUsername === 'admin');
    await asUser.waitFor((d) => d.auditEvents.actorUsername === 'opsuser' && d.auditEvents.eventType === 'AUTHENTICATION_SUCCESS');
    expect(asUser.received.every((r) => r.data?.auditEvents.actorId === encodeGlobalID('User', userId))).toBe(true);
    expect(asAdmin.received.every((r) => r.data?.auditEvents.eventType === 'AUTHENTICATION_SUCCESS')).toBe(true);

    // Once the subscriber's token is revoked, the next event ends the stream instead of reaching them.
    const liveToken = await server.authgate.services.tokens.validateAccessToken(userLive.access_token);
    await server.authgate.services.tokenAdmin.revoke(liveToken.token.id, { userId: null, username: 'test' }, {});
    await new Promise((r) => setTimeout(r, 2100));
    const before = asUser.received.length;
    await signedInBrowser(server, 'opsuser', 'brand-new-pass-1');
    await asAdmin.waitFor((d) => asAdmin.received.length > 2 && d.auditEvents.actorUsername === 'opsuser');
    await Promise.race([asUser.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream did not end')), 5000))]);
    expect(asUser.received.length).toBe(before);
    asUser.close();
    asAdmin.close();
  });

  test('auditEvents pages newest first with cursors; stats for a dashboard', async () => {
    await server.authgate.services.audit.flush();
    const page1 = await gql(server, AuditEventsDocument, { first: 3 }, { token: adminToken });
    expect(page1.errors).toBeUndefined();
    const page2 = await gql(server, AuditEventsDocument, { first: 3, after: page1.data!.auditEvents.pageInfo.endCursor }, { token: adminToken });
    const times = [...page1.data!.auditEvents.edges, ...page2.data!.auditEvents.edges].map((e) => Date.parse(e.node.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(new Set([...page1.data!.auditEvents.edges, ...page2.data!.auditEvents.edges].map((e) => e.node.id)).size).toBe(6);
    expect(page1.data!.auditEvents.totalCount).toBeGreaterThan(6);
    expect(codes(await gql(server, AuditEventsDocument, { first: 3, after: 'bm9wZQ' }, { token: adminToken }))).toEqual(['BAD_USER_INPUT']);
    const plainUser = (await deviceFlowToken(server, { scope: 'read', username: 'opsuser', password: 'brand-new-pass-1' })).access_token;
    expect(codes(await gql(server, AuditEventsDocument, { first: 3 }, { token: plainUser }))).toEqual(['FORBIDDEN']);

    const stats = await gql(server, StatsDocument, { window: 'DAY' }, { token: adminToken });
    expect(stats.errors).toBeUndefined();
    const s = stats.data!.stats;
    expect(s.logins).toHaveLength(24);
    expect(s.logins.reduce((n, b) => n + b.count, 0)).toBeGreaterThanOrEqual(5);
    expect(s.tokensIssued.map((t) => t.grantType)).toEqual(expect.arrayContaining(['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']));
    expect(s.users.active).toBe(2);
    expect(codes(await gql(server, StatsDocument, { window: 'DAY' }, { token: plainUser }))).toEqual(['FORBIDDEN']);
    expect(codes(await gql(server, 'query { stats(window: YEAR) { authorizations } }', {}, { token: adminToken }))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  const admin = () => server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
});

// With REDIS_URL, an event written on one instance reaches a subscriber on another.
(process.env.TEST_REDIS_URL ? describe : describe.skip)('the audit stream across instances (Redis)', () => {
  let a: TestServer;
  let b: AuthGate;
  beforeAll(async () => {
    a = await startTestServer();
    b = await createAuthGate(a.config, createLogger('silent'));
    await b.listen(await freePort(), '127.0.0.1');
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  test('a subscriber on A receives what B writes', async () => {
    const token = (await deviceFlowToken(a, { scope: 'admin' })).access_token;
    const live = await subscribe<OnAuditEventSubscription>(`${a.url}/graphql`, OnAuditEventDocument, { filter: { types: ['WRITTEN_ON_B'] } }, { authorization: `Bearer ${token}` });
    await new Promise((r) => setTimeout(r, 300));
    await b.services.audit.recordNow({ eventType: 'WRITTEN_ON_B', details: { n: 1 } });
    const got = await live.waitFor((d) => d.auditEvents.eventType === 'WRITTEN_ON_B');
    expect(JSON.parse(got.auditEvents.details)).toEqual({ n: 1 });
    live.close();
  });

  test('events an instance writes as it shuts down (its buffer’s last batch) still reach subscribers elsewhere', async () => {
    const log = captureLog('warn');
    const c = await createAuthGate(a.config, log.logger);
    await c.listen(await freePort(), '127.0.0.1');
    const token = (await deviceFlowToken(a, { scope: 'admin' })).access_token;
    const live = await subscribe<OnAuditEventSubscription>(`${a.url}/graphql`, OnAuditEventDocument, { filter: { types: ['BUFFERED_ON_C'] } }, { authorization: `Bearer ${token}` });
    await new Promise((r) => setTimeout(r, 300));
    c.services.audit.record({ eventType: 'BUFFERED_ON_C', details: { n: 2 } });
    await c.close();
    const got = await live.waitFor((d) => d.auditEvents.eventType === 'BUFFERED_ON_C');
    expect(JSON.parse(got.auditEvents.details)).toEqual({ n: 2 });
    live.close();
    expect(log.lines().filter((line) => String(line.msg).startsWith('audit stream'))).toEqual([]);
  });
});
