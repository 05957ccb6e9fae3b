// The audit log can be relied on: the biggest configured batch is written whole (chunked to what one
// statement can bind), a row the database refuses is isolated and counted as dropped without holding
// back the others, and counts in details survive masking while credentials do not.
import { createPrismaClient } from '../../src/db/client.js';
import { AuditLog } from '../../src/services/audit.js';
import { captureLog } from '../helpers/log-capture.js';
import { createClient } from '../helpers/clients.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, usingPostgres, type TestServer } from '../helpers/server.js';

// Every audit log here counts into the test server's registry (one per server instance).
let server: TestServer;
const metrics = () => server.authgate.metrics;

async function droppedCount(reason: string): Promise<number> {
  const metric = await metrics().auditEventsDropped.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function bufferDepth(): Promise<number> {
  return (await metrics().auditBufferDepth.get()).values[0]!.value;
}


describe('audit integrity', () => {
  const dialect = usingPostgres ? 'postgresql' : 'sqlite';
  beforeAll(async () => {
    // The configured maximum batch, and no timer flush: the tests decide when batches are written.
    server = await startTestServer({ AUDIT_BATCH_SIZE: '10000', AUDIT_FLUSH_INTERVAL: '1h', METRICS_ENABLED: 'true' });
  });
  afterAll(async () => {
    await server.close();
  });

  test('AUDIT_BATCH_SIZE=10000: 20,000 buffered events are all written, none dropped', async () => {
    const audit = server.authgate.services.audit;
    const before = await droppedCount('write_failed');
    for (let i = 0; i < 20_000; i++) audit.record({ eventType: 'BULK_EVENT', details: { i } });
    await audit.flush();
    expect(await server.authgate.db.auditEvent.count({ where: { eventType: 'BULK_EVENT' } })).toBe(20_000);
    expect(await droppedCount('write_failed')).toBe(before);
    expect(await bufferDepth()).toBe(0);
  }, 60_000);

  test('rows the database refuses are dropped and counted; every other row of their batch is written', async () => {
    const db = server.authgate.db;
    // A row the database itself refuses, the same way on both dialects: a trigger that raises.
    if (usingPostgres) {
      await db.$executeRawUnsafe(
        `CREATE FUNCTION audit_poison() RETURNS trigger AS $$ BEGIN IF NEW."eventType" = 'POISONED' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
      );
      await db.$executeRawUnsafe(`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_poison()`);
    } else {
      await db.$executeRawUnsafe(`CREATE TRIGGER audit_poison BEFORE INSERT ON audit_events WHEN NEW."eventType" = 'POISONED' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    }
    const captured = captureLog();
    const logger = captured.logger;
    const audit = new AuditLog(db, logger, { flushIntervalMs: 3_600_000, batchSize: 10_000, dialect, retryDelaysMs: [10, 20], metrics: metrics() });
    const before = await droppedCount('write_failed');
    const poisoned = new Set([0, 4_999, 12_345, 19_999]);
    // PostgreSQL's own refusals: a NUL byte in text, a value outside the Severity enum.
    const pgNul = 4_000;
    const pgEnum = 13_000;
    for (let i = 0; i < 20_000; i++) {
      if (poisoned.has(i)) audit.record({ eventType: 'POISONED', details: { note: 'detail-value-never-logged', password: 'hunter2' } });
      else if (usingPostgres && i === pgNul) audit.record({ eventType: 'POISONED_NUL', request: { userAgent: 'agent\u0000nul' } });
      else if (usingPostgres && i === pgEnum) audit.record({ eventType: 'POISONED_ENUM', severity: 'BOGUS' as never });
      else audit.record({ eventType: 'MIXED_BATCH', details: { i } });
    }
    const started = Date.now();
    await audit.close();
    const elapsed = Date.now() - started;
    const refused = poisoned.size + (usingPostgres ? 2 : 0);

    expect(await db.auditEvent.count({ where: { eventType: 'MIXED_BATCH' } })).toBe(20_000 - refused);
    expect(await db.auditEvent.count({ where: { eventType: { startsWith: 'POISONED' } } })).toBe(0);
    expect(await droppedCount('write_failed')).toBe(before + refused);
    const log = captured.text();
    const dropLines = (captured.lines() as { msg: string; dropped?: number }[]).filter((l) => l.msg.startsWith('audit events dropped'));
    expect(dropLines.reduce((sum, l) => sum + l.dropped!, 0)).toBe(refused);
    expect(log).not.toContain('detail-value-never-logged');
    expect(log).not.toContain('hunter2');
    // Halving isolates each bad row in a few dozen statements (6 s on SQLite, 20 s on PostgreSQL on a
    // busy 2-core machine); row by row would take 20,000 statements, over ten minutes there.
    expect(elapsed).toBeLessThan(45_000);

    if (usingPostgres) {
      await db.$executeRawUnsafe('DROP TRIGGER audit_poison ON audit_events');
      await db.$executeRawUnsafe('DROP FUNCTION audit_poison()');
    } else {
      await db.$executeRawUnsafe('DROP TRIGGER audit_poison');
    }
  }, 90_000);

  test('a full buffer drops the oldest events and counts them', async () => {
    const captured = captureLog();
    const logger = captured.logger;
    // 2,500 per batch gives the smallest buffer (10,000); the flush started at 2,500 cannot run before
    // this synchronous burst ends, so the last five events push five out.
    const audit = new AuditLog(server.authgate.db, logger, { flushIntervalMs: 3_600_000, batchSize: 2_500, dialect, metrics: metrics() });
    const before = await droppedCount('buffer_full');
    for (let i = 0; i < 10_005; i++) audit.record({ eventType: 'BURST_EVENT', details: { i } });
    await audit.close();
    expect(await droppedCount('buffer_full')).toBe(before + 5);
    expect(await server.authgate.db.auditEvent.count({ where: { eventType: 'BURST_EVENT' } })).toBe(10_000);
    // The newest are kept: the first five are the ones missing.
    const oldest = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'BURST_EVENT' }, select: { details: true } });
    const kept = new Set(oldest.map((e) => (JSON.parse(e.details) as { i: number }).i));
    expect([0, 1, 2, 3, 4].some((i) => kept.has(i))).toBe(false);
    expect(kept.has(10_004)).toBe(true);
    expect(captured.text()).toContain('audit buffer full');
  }, 60_000);

  test('while the database does not answer, rows are kept (not dropped) until shutdown, where the loss is counted', async () => {
    // Nothing listens on port 1: every query fails at connect, the way an outage looks.
    const unreachable = createPrismaClient({ dialect: 'postgresql', url: 'postgresql://postgres@127.0.0.1:1/none' });
    const captured = captureLog();
    const logger = captured.logger;
    const audit = new AuditLog(unreachable, logger, { flushIntervalMs: 3_600_000, batchSize: 100, dialect: 'postgresql', retryDelaysMs: [5], metrics: metrics() });
    const failedBefore = await droppedCount('write_failed');
    const shutdownBefore = await droppedCount('shutdown');
    const depthBefore = await bufferDepth();
    for (let i = 0; i < 10; i++) audit.record({ eventType: 'DURING_OUTAGE' });
    await audit.flush();
    await audit.flush();
    expect(await droppedCount('write_failed')).toBe(failedBefore);
    expect(await bufferDepth()).toBe(depthBefore + 10);
    expect(captured.text()).toContain('the database does not answer; will retry');
    await audit.close();
    expect(await droppedCount('shutdown')).toBe(shutdownBefore + 10);
    expect(await bufferDepth()).toBe(depthBefore);
    await unreachable.$disconnect();
  }, 30_000);

  test('a revoke-all event keeps its counts; credentials in details are masked', async () => {
    const client = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const basic = { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` };
    for (let i = 0; i < 3; i++) expect((await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read' }, basic)).status).toBe(200);
    const db = server.authgate.db;
    const row = await db.oAuthClient.findUniqueOrThrow({ where: { clientId: client.clientId } });
    const admin = await db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    await server.authgate.services.revocation.revokeAllForClient(row.id, { userId: admin.id, username: admin.username }, {});
    const event = await db.auditEvent.findFirstOrThrow({ where: { eventType: 'CLIENT_TOKENS_REVOKED', subjectId: row.id } });
    expect(JSON.parse(event.details)).toEqual({ reason: 'admin_revoke_all', tokens_revoked: 3, authorizations_revoked: 0, authorization_codes_revoked: 0, device_codes_revoked: 0 });

    const credentials = {
      password: 'pw-1',
      new_password: 'pw-2',
      client_secret: 'secret-3',
      clientSecret: 'secret-4',
      access_token: 'tok-5',
      refresh_token: 'tok-6',
      token: 'tok-7',
      id_token_hint: 'tok-8',
      code: 'code-9',
      device_code: 'code-10',
      user_code: 'code-11',
      code_verifier: 'verifier-12',
      _csrf: 'csrf-13',
      cookie: 'cookie-14',
      client_assertion: 'assertion-15',
      apiKey: 'key-21',
      authorization: 'Basic Y3JlZC0xNg==',
      forwarded_header: 'Bearer bearer-17',
      note: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxOCJ9.c2lnbmF0dXJlLTE4',
      nested: { refreshToken: 'tok-19', tokens: ['tok-20'] },
    };
    const kept = {
      tokens_revoked: 4,
      tokensRevoked: 5,
      authorizations_revoked: 6,
      token_type_hint: 'refresh_token',
      token_category: 'access',
      authorization_id: 'auth-row-1',
      refresh_token_issued: true,
      enableClientCredentials: false,
      password_reset: null,
      error_code: 'E42',
      // A sentence that starts with the scheme's name is not a credential.
      reason: 'Bearer token missing from the request',
    };
    await server.authgate.services.audit.recordNow({ eventType: 'MASKING_PROBE', details: { ...credentials, ...kept } });
    const stored = await db.auditEvent.findFirstOrThrow({ where: { eventType: 'MASKING_PROBE' } });
    const details = JSON.parse(stored.details) as Record<string, unknown>;
    expect(details).toMatchObject(kept);
    for (const key of Object.keys(credentials).filter((k) => k !== 'nested')) expect([key, details[key]]).toEqual([key, '[REDACTED]']);
    expect(details.nested).toEqual({ refreshToken: '[REDACTED]', tokens: '[REDACTED]' });
    for (const secret of ['pw-1', 'secret-3', 'tok-5', 'code-9', 'verifier-12', 'csrf-13', 'Y3JlZC0xNg', 'bearer-17', 'eyJzdWIiOiIxOCJ9', 'tok-19', 'tok-20']) {
      expect(stored.details).not.toContain(secret);
    }

    // Names are classified once and remembered; what a name's value is still decides each time: the
    // same event again is masked the same, a count under a plural is kept, a list under it is not.
    await server.authgate.services.audit.recordNow({ eventType: 'MASKING_PROBE_AGAIN', details: { ...credentials, ...kept, tokens: 7, note: 'a note', nested: { tokens: 8, codes: ['code-22'] } } });
    const again = JSON.parse((await db.auditEvent.findFirstOrThrow({ where: { eventType: 'MASKING_PROBE_AGAIN' } })).details) as Record<string, unknown>;
    expect(again).toEqual({ ...details, tokens: 7, note: 'a note', nested: { tokens: 8, codes: '[REDACTED]' } });
  });
});
