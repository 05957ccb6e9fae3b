// Audit retention and switches: ENABLE_AUDIT_LOGGING, AUDIT_LOG_RETENTION, AUDIT_LOG_CLEANUP_INTERVAL.
// Retention deletes exactly the events older than the window, in chunks (seen from outside while it
// runs), while the server keeps answering; housekeeping runs it on its interval.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/env.js';
import type { Db } from '../../src/db/client.js';
import { AUDIT_RETENTION_CHUNK, pruneAuditEvents } from '../../src/ops/housekeeping.js';
import { createClient } from '../helpers/clients.js';
import { captureLog } from '../helpers/log-capture.js';
import { postForm } from '../helpers/oauth.js';
import { waitUntil } from '../helpers/redis-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const HOUR = 3600_000;
const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: '/tmp/authgate-unused', ...env });

/** Inserts `count` events of type `type` with createdAt = at(i). */
async function insertEvents(db: Db, type: string, count: number, at: (i: number) => Date): Promise<void> {
  const CHUNK = 2000;
  for (let start = 0; start < count; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + CHUNK); i++) {
      rows.push({ id: randomUUID(), eventType: type, severity: 'INFO' as const, details: '{}', ipAddress: '192.0.2.1', createdAt: at(i) });
    }
    await db.auditEvent.createMany({ data: rows });
  }
}

describe('configuration', () => {
  test('defaults: on, 90 days, cleaned daily', () => {
    expect(load({}).audit).toMatchObject({ enabled: true, retentionSeconds: 90 * 24 * 3600, cleanupIntervalMs: 24 * HOUR });
    expect(load({ AUDIT_LOG_RETENTION: '720h', AUDIT_LOG_CLEANUP_INTERVAL: '1h', ENABLE_AUDIT_LOGGING: 'false' }).audit).toMatchObject({
      enabled: false,
      retentionSeconds: 720 * 3600,
      cleanupIntervalMs: HOUR,
    });
    expect(load({ AUDIT_LOG_RETENTION: '0' }).audit.retentionSeconds).toBe(0);
  });

  test.each([
    ['AUDIT_LOG_RETENTION', 'ninety days', /^AUDIT_LOG_RETENTION must be a duration/],
    ['AUDIT_LOG_RETENTION', '-1h', /^AUDIT_LOG_RETENTION must be a duration/],
    ['AUDIT_LOG_RETENTION', '90', /^AUDIT_LOG_RETENTION must be 0 \(keep forever\) or at least 1h/],
    ['AUDIT_LOG_CLEANUP_INTERVAL', '0', /^AUDIT_LOG_CLEANUP_INTERVAL must be at least 1 seconds/],
    ['AUDIT_LOG_CLEANUP_INTERVAL', 'daily', /^AUDIT_LOG_CLEANUP_INTERVAL must be a duration/],
    ['AUDIT_LOG_CLEANUP_INTERVAL', '2000h', /^AUDIT_LOG_CLEANUP_INTERVAL must be at most/],
    ['AUDIT_LOG_BUFFER_SIZE', '-5', /^AUDIT_LOG_BUFFER_SIZE must be an integer/],
    ['ENABLE_AUDIT_LOGGING', 'maybe', /^ENABLE_AUDIT_LOGGING must be true or false/],
  ])('%s=%s stops startup naming the variable', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(message);
  });

  test('the variables are implemented now: no "not implemented" warning', () => {
    expect(load({ AUDIT_LOG_RETENTION: '2160h', AUDIT_LOG_CLEANUP_INTERVAL: '24h', ENABLE_AUDIT_LOGGING: 'false' }).warnings).toEqual([]);
  });
});

describe('ENABLE_AUDIT_LOGGING=false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_AUDIT_LOGGING: 'false' });
  });
  afterAll(() => server.close());

  test("per-request events are not written; an administrator's mass revocation (a security-relevant change) still is", async () => {
    const c = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const creds = { client_id: c.clientId, client_secret: c.clientSecret! };
    const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read', ...creds });
    expect(issued.status).toBe(200);
    expect((await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'wrong' })).status).toBe(401);
    expect((await postForm(`${server.url}/oauth/revoke`, { token: issued.json.access_token as string, ...creds })).status).toBe(200);
    // What the admin API's revokeAllClientTokens runs: written with the change, whatever the switch says.
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: c.clientId } });
    const admin = await server.authgate.db.user.findFirstOrThrow({ where: { username: 'admin' } });
    await server.authgate.services.revocation.revokeAllForClient(row.id, { userId: admin.id, username: admin.username }, { ip: '192.0.2.9' });
    await server.authgate.services.audit.flush();
    const types = (await server.authgate.db.auditEvent.findMany({ where: { clientId: c.clientId } })).map((e) => e.eventType);
    // No ACCESS_TOKEN_ISSUED, CLIENT_AUTHENTICATION_FAILURE or TOKEN_REVOKED (the client's own revocation).
    expect(types).toEqual(['CLIENT_TOKENS_REVOKED']);
  });
});

describe('retention', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ AUDIT_LOG_RETENTION: '24h' });
  });
  afterAll(() => server.close());

  test(
    'deletes exactly the events older than the window, in chunks, while the server keeps answering',
    async () => {
      const db = server.authgate.db;
      const now = new Date();
      const cutoff = now.getTime() - 24 * HOUR;
      const OLD = 50 * AUDIT_RETENTION_CHUNK;
      // 50,000 events older than the window (the youngest 1 ms before the cutoff), and events at and after it.
      await insertEvents(db, 'TEST_OLD', OLD, (i) => new Date(cutoff - 1 - i * 10));
      await insertEvents(db, 'TEST_AT_CUTOFF', 1, () => new Date(cutoff));
      await insertEvents(db, 'TEST_YOUNG', 500, (i) => new Date(cutoff + 1 + i * 1000));
      const c = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });

      // Watch from outside: the old events go in steps, not in one statement.
      let done = false;
      const seen = new Set<number>();
      const watching = (async () => {
        while (!done) {
          seen.add(await db.auditEvent.count({ where: { eventType: 'TEST_OLD' } }));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      // Requests during the cleanup: a token issuance (writes a token and an audit event) and a health check.
      const latencies: number[] = [];
      const serving = (async () => {
        while (!done) {
          const started = Date.now();
          const [token, health] = await Promise.all([
            postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'read', client_id: c.clientId, client_secret: c.clientSecret! }),
            fetch(`${server.url}/health`),
          ]);
          expect(token.status).toBe(200);
          expect(health.status).toBe(200);
          if (!done) latencies.push(Date.now() - started);
        }
      })();

      const result = await pruneAuditEvents(db, { retentionSeconds: 24 * 3600, now });
      done = true;
      await Promise.all([watching, serving]);

      expect(result).toEqual({ deleted: OLD, batches: 50 });
      expect(await db.auditEvent.count({ where: { eventType: 'TEST_OLD' } })).toBe(0);
      expect(await db.auditEvent.count({ where: { eventType: 'TEST_AT_CUTOFF' } })).toBe(1);
      expect(await db.auditEvent.count({ where: { eventType: 'TEST_YOUNG' } })).toBe(500);
      // Seen part-way: counts strictly between all and none.
      expect([...seen].filter((n) => n > 0 && n < OLD).length).toBeGreaterThanOrEqual(3);
      // Answered during the cleanup, each promptly.
      expect(latencies.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...latencies)).toBeLessThan(2000);
      // What the server wrote meanwhile is new, and kept.
      await server.authgate.services.audit.flush();
      expect(await db.auditEvent.count({ where: { eventType: 'ACCESS_TOKEN_ISSUED', clientId: c.clientId } })).toBeGreaterThanOrEqual(latencies.length);
    },
    120_000,
  );

  test('AUDIT_LOG_RETENTION=0 keeps everything', async () => {
    const db = server.authgate.db;
    await insertEvents(db, 'TEST_ANCIENT', 3, () => new Date(Date.now() - 10 * 365 * 24 * HOUR));
    expect(await pruneAuditEvents(db, { retentionSeconds: 0 })).toEqual({ deleted: 0, batches: 0 });
    expect(await db.auditEvent.count({ where: { eventType: 'TEST_ANCIENT' } })).toBe(3);
  });
});

describe('housekeeping runs the retention on AUDIT_LOG_CLEANUP_INTERVAL', () => {
  test(
    'old events disappear on their own, chunk by chunk, and the run is logged',
    async () => {
      const log = captureLog('info');
      const server = await startTestServer({ AUDIT_LOG_RETENTION: '1h', AUDIT_LOG_CLEANUP_INTERVAL: '1s' }, { logger: log.logger });
      try {
        const db = server.authgate.db;
        const count = 2 * AUDIT_RETENTION_CHUNK + 500;
        await insertEvents(db, 'TEST_OLD', count, (i) => new Date(Date.now() - 2 * HOUR - i));
        await insertEvents(db, 'TEST_YOUNG', 10, () => new Date(Date.now() - 30 * 60_000));
        await waitUntil(async () => (await db.auditEvent.count({ where: { eventType: 'TEST_OLD' } })) === 0, 15_000);
        expect(await db.auditEvent.count({ where: { eventType: 'TEST_YOUNG' } })).toBe(10);
        await waitUntil(() => log.lines().some((l) => l.msg === 'audit retention: old events deleted'), 5000);
        const runs = log.lines().filter((l) => l.msg === 'audit retention: old events deleted');
        // All in one run (the insert finished before the first tick) or spread over runs; either way in chunks.
        expect(runs.reduce((sum, l) => sum + (l.deleted as number), 0)).toBe(count);
        expect(runs.reduce((sum, l) => sum + (l.batches as number), 0)).toBeGreaterThanOrEqual(3);
      } finally {
        await server.close();
      }
    },
    60_000,
  );
});
