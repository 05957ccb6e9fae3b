// The services behind the GraphQL tokens, audit, account and stats types, on the real database:
// hold/revoke rules under racing admins, audit paging stable under inserts, the live-stream hook,
// password change, sessions, and the dashboard counts.
import { randomUUID } from 'node:crypto';
import type { User } from '../../src/db/client.js';
import { Conflict, NotFound, BadInput } from '../../src/domain/errors.js';
import type { WrittenAuditRow } from '../../src/services/audit.js';
import { hashPassword } from '../helpers/passwords.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const REQ = { ip: '192.0.2.9', userAgent: 'ops-services-test' };

describe('ops services', () => {
  let server: TestServer;
  let admin: User;
  let alice: User;
  const actor = () => ({ userId: admin.id, username: admin.username });

  beforeAll(async () => {
    server = await startTestServer();
    const { db } = server.authgate;
    admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    alice = await db.user.create({ data: { username: `alice-${randomUUID()}`, passwordHash: await hashPassword('alice-password-1') } });
  });
  afterAll(() => server.close());

  async function issue(user: User, withRefresh = true) {
    const { db, services } = server.authgate;
    const client = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
    const issued = await services.tokens.issue({ client, user, scopes: ['read'], resources: [], grantType: 'urn:test' }, { withRefresh }, REQ);
    const access = await db.token.findFirstOrThrow({ where: { userId: user.id, category: 'access' }, orderBy: { createdAt: 'desc' } });
    return { issued, access };
  }

  test('disable and enable put a hold on a token; a revoked token can never be enabled', async () => {
    const { services } = server.authgate;
    const { issued, access } = await issue(alice, false);
    const disabled = await services.tokenAdmin.disable(access.id, actor(), REQ);
    expect(disabled.status).toBe('disabled');
    await expect(services.tokens.validateAccessToken(issued.accessToken)).rejects.toThrow();
    expect((await services.tokenAdmin.enable(access.id, actor(), REQ)).status).toBe('active');
    await expect(services.tokens.validateAccessToken(issued.accessToken)).resolves.toBeTruthy();
    const { token, tokensRevoked } = await services.tokenAdmin.revoke(access.id, actor(), REQ);
    expect([token.status, tokensRevoked]).toEqual(['revoked', 1]);
    await expect(services.tokenAdmin.enable(access.id, actor(), REQ)).rejects.toBeInstanceOf(Conflict);
    await expect(services.tokenAdmin.disable(access.id, actor(), REQ)).rejects.toBeInstanceOf(Conflict);
    await expect(services.tokenAdmin.enable(randomUUID(), actor(), REQ)).rejects.toBeInstanceOf(NotFound);
  });

  test('20 races of enable against revoke on a disabled token: it always ends revoked', async () => {
    const { services, db } = server.authgate;
    for (let round = 0; round < 20; round++) {
      const { access } = await issue(alice, false);
      await services.tokenAdmin.disable(access.id, actor(), REQ);
      const outcomes = await Promise.allSettled([
        services.tokenAdmin.enable(access.id, actor(), REQ),
        services.tokenAdmin.revoke(access.id, actor(), REQ),
        services.tokenAdmin.enable(access.id, actor(), REQ),
      ]);
      expect(outcomes[1]!.status).toBe('fulfilled');
      for (const o of [outcomes[0]!, outcomes[2]!]) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(Conflict);
      expect((await db.token.findUniqueOrThrow({ where: { id: access.id } })).status).toBe('revoked');
    }
  }, 30_000);

  test('revoking a refresh token takes its family; a user cannot revoke another user’s token (NotFound)', async () => {
    const { services, db } = server.authgate;
    await issue(alice);
    const refresh = await db.token.findFirstOrThrow({ where: { userId: alice.id, category: 'refresh', status: 'active' }, orderBy: { createdAt: 'desc' } });
    await expect(services.tokenAdmin.revoke(refresh.id, { userId: admin.id }, REQ, { userId: admin.id })).rejects.toBeInstanceOf(NotFound);
    const { tokensRevoked } = await services.tokenAdmin.revoke(refresh.id, { userId: alice.id }, REQ, { userId: alice.id });
    expect(tokensRevoked).toBe(2);
    const family = await services.tokenAdmin.family(refresh.familyId);
    expect(family.map((t) => t.status)).toEqual(['revoked', 'revoked']);
    expect(family[0]!.id).toBe(refresh.id); // issue order: the refresh token first, then its access token
  });

  test('revokeFamilyOf ends every token of the family and is audited at WARNING', async () => {
    const { services, db } = server.authgate;
    const { access } = await issue(alice);
    const { familyId, tokensRevoked } = await services.tokenAdmin.revokeFamilyOf(access.id, actor(), REQ);
    expect(tokensRevoked).toBe(2);
    expect(await db.token.count({ where: { familyId, status: { not: 'revoked' } } })).toBe(0);
    const event = await db.auditEvent.findFirstOrThrow({ where: { eventType: 'TOKEN_FAMILY_REVOKED', subjectId: familyId } });
    expect(event).toMatchObject({ severity: 'WARNING', actorUserId: admin.id, ipAddress: REQ.ip });
  });

  test('audit pages are newest first and stable while new events arrive; the live hook sees each written row', async () => {
    const { services } = server.authgate;
    const seen: WrittenAuditRow[] = [];
    services.audit.onWritten((rows) => seen.push(...rows));
    const type = `PAGING_${randomUUID()}`;
    // A few milliseconds apart: events within one millisecond have no defined order among themselves.
    const tick = () => new Promise((r) => setTimeout(r, 3));
    for (let i = 0; i < 5; i++) {
      await services.audit.recordNow({ eventType: type, details: { i } });
      await tick();
    }
    const first = await services.auditQuery.page({ types: [type] }, { first: 2 });
    expect(first.events.map((e) => JSON.parse(e.details).i)).toEqual([4, 3]);
    expect(first.hasNextPage).toBe(true);
    // Newer events land between the two page requests: the next page goes on where the first ended.
    for (let i = 5; i < 8; i++) {
      services.audit.record({ eventType: type, details: { i } });
      await tick();
    }
    await services.audit.flush();
    const { auditCursor } = await import('../../src/services/audit-query.js');
    const second = await services.auditQuery.page({ types: [type] }, { first: 2, after: auditCursor(first.events[1]!) });
    const third = await services.auditQuery.page({ types: [type] }, { first: 2, after: auditCursor(second.events[1]!) });
    expect(second.events.map((e) => JSON.parse(e.details).i)).toEqual([2, 1]);
    expect(third.events.map((e) => JSON.parse(e.details).i)).toEqual([0]);
    expect(third.hasNextPage).toBe(false);
    expect(await services.auditQuery.count({ types: [type] })).toBe(8);
    expect(seen.filter((r) => r.eventType === type).map((r) => JSON.parse(String(r.details)).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await expect(services.auditQuery.page({}, { first: 2, after: 'garbage' })).rejects.toBeInstanceOf(BadInput);
  });

  test('changing the password needs the current one, ends the other sessions and is audited', async () => {
    const { services, db } = server.authgate;
    const user = await db.user.create({ data: { username: `bob-${randomUUID()}`, passwordHash: await hashPassword('bob-password-1') } });
    for (const sid of ['s-keep', 's-other-1', 's-other-2']) await services.sessions.set(sid, { userId: user.id }, REQ);
    const sessions = await services.account.sessions(user.id);
    expect(sessions).toHaveLength(3);
    const { sha256Hex } = await import('../../src/domain/crypto.js');
    const keep = sha256Hex('s-keep');

    await expect(services.account.changePassword(user.id, { currentPassword: 'wrong-password', newPassword: 'new-password-1' }, keep, REQ)).rejects.toBeInstanceOf(BadInput);
    await expect(services.account.changePassword(user.id, { currentPassword: 'bob-password-1', newPassword: 'short' }, keep, REQ)).rejects.toThrow(/8 to 128 characters/);
    expect(await db.session.count({ where: { userId: user.id } })).toBe(3);

    const { sessionsEnded } = await services.account.changePassword(user.id, { currentPassword: 'bob-password-1', newPassword: 'new-password-1' }, keep, REQ);
    expect(sessionsEnded).toBe(2);
    expect((await services.account.sessions(user.id)).map((s) => s.id)).toEqual([keep]);
    await expect(services.signIn.signIn(user.username, 'new-password-1', REQ)).resolves.toMatchObject({ id: user.id });
    await expect(services.signIn.signIn(user.username, 'bob-password-1', REQ)).rejects.toThrow();
    await services.audit.flush();
    const events = await db.auditEvent.findMany({ where: { subjectId: user.id, eventType: { in: ['PASSWORD_CHANGED', 'PASSWORD_CHANGE_FAILED'] } } });
    expect(events.map((e) => e.eventType).sort()).toEqual(['PASSWORD_CHANGED', 'PASSWORD_CHANGE_FAILED']);
    expect(JSON.stringify(events)).not.toContain('new-password-1');

    // Sessions: another user's is NotFound; the owner's own goes.
    await services.sessions.set('s-later', { userId: user.id }, REQ);
    await expect(services.account.revokeSession(sha256Hex('s-later'), { userId: alice.id }, REQ, alice.id)).rejects.toBeInstanceOf(NotFound);
    await services.account.revokeSession(sha256Hex('s-later'), { userId: user.id }, REQ, user.id);
    expect(await services.sessions.get('s-later')).toBeNull();
  });

  test('a session ended while a request that loaded it was running is not brought back by that request\'s save', async () => {
    const { services, db } = server.authgate;
    const { sha256Hex } = await import('../../src/domain/crypto.js');
    const user = await db.user.create({ data: { username: `eve-${randomUUID()}` } });
    await services.sessions.set('s-inflight', { userId: user.id }, REQ);
    // The request loads the session; meanwhile the user is signed out everywhere; then the request ends.
    const loaded = (await services.sessions.get('s-inflight'))!;
    expect(await services.account.revokeOtherSessions(user.id, undefined, { userId: user.id }, REQ)).toBe(1);
    await services.sessions.set('s-inflight', loaded, REQ, { existing: true });
    expect(await services.sessions.get('s-inflight')).toBeNull();
    expect(await db.session.count({ where: { id: sha256Hex('s-inflight') } })).toBe(0);
    // A new session (not loaded by the request) is created as before.
    await services.sessions.set('s-new', { userId: user.id }, REQ);
    expect(await services.sessions.get('s-new')).toMatchObject({ userId: user.id });
  });

  test('an admin revoking an authorization ends its tokens; the account lists only live ones', async () => {
    const { services, db } = server.authgate;
    const client = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
    await services.consents.grant(alice, client, ['read'], REQ);
    const { issued } = await issue(alice);
    const [authorization] = await services.account.authorizations(alice.id);
    expect(authorization).toMatchObject({ clientId: client.id, scopes: 'read' });
    expect((await services.account.tokens(alice.id)).length).toBeGreaterThan(0);
    const { tokensRevoked } = await services.account.revokeAuthorizationAsAdmin(authorization!.id, actor(), REQ);
    expect(tokensRevoked).toBeGreaterThan(0);
    await expect(services.tokens.validateAccessToken(issued.accessToken)).rejects.toThrow();
    expect(await services.account.authorizations(alice.id)).toHaveLength(0);
    expect(await services.account.tokens(alice.id)).toHaveLength(0);
  });

  test('stats: counts by kind, and logins and issued tokens per interval from the audit log', async () => {
    const { services, db } = server.authgate;
    // An earlier test withdrew alice's consent, which rightly stops issuance until she consents again.
    const client = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
    await services.consents.grant(alice, client, ['read'], REQ);
    await services.audit.flush(); // earlier tests' buffered events must not land between the two snapshots
    const before = await services.stats.stats('HOUR');
    await services.signIn.signIn('admin', 'wrong', REQ).catch(() => undefined);
    await services.signIn.signIn(alice.username, 'alice-password-1', REQ);
    await issue(alice);
    await services.audit.flush();
    const after = await services.stats.stats('HOUR');
    const total = (b: { count: number }[]) => b.reduce((n, x) => n + x.count, 0);
    expect(after.logins).toHaveLength(12);
    expect(after.bucketSeconds).toBe(300);
    expect(total(after.logins) - total(before.logins)).toBe(1);
    expect(total(after.failedLogins) - total(before.failedLogins)).toBe(1);
    // The newest bucket holds what just happened.
    expect(after.logins[11]!.count).toBeGreaterThanOrEqual(1);
    const issuedSeries = (s: typeof after) => total(s.tokensIssued.find((t) => t.grantType === 'urn:test')?.buckets ?? []);
    expect(issuedSeries(after) - issuedSeries(before)).toBe(1);
    expect(after.users.active).toBeGreaterThanOrEqual(2);
    expect(after.activeTokens.find((t) => t.category === 'refresh')!.count).toBeGreaterThanOrEqual(1);
    expect(after.clients.find((c) => c.type === 'public')!.count).toBeGreaterThanOrEqual(1);
    for (const window of ['DAY', 'WEEK', 'MONTH'] as const) {
      const s = await services.stats.stats(window);
      expect(total(s.logins)).toBeGreaterThanOrEqual(total(after.logins));
    }
  });
});
