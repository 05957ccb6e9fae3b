// GET /admin/audit/export over real HTTP: who may download, the filter, CSV quoting, and 100,000
// events streamed in bounded memory.
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { insertAuditBatch } from '../../src/db/audit-batch.js';
import type { Prisma } from '../../src/db/client.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

// The heap check needs a real collection before each sample, or garbage would count as growth.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const BULK = 100_000;
const BULK_TYPE = 'BULK_EXPORT_TEST';

async function issueToken(server: TestServer, username: string, scopes: string[]): Promise<string> {
  const { db, services } = server.authgate;
  const user = await db.user.findUniqueOrThrow({ where: { username } });
  const client = await db.oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
  const issued = await services.tokens.issue({ client, user, scopes, resources: [], grantType: 'test' }, { withRefresh: false }, {});
  return issued.accessToken;
}

describe('audit CSV export', () => {
  let server: TestServer;
  let adminToken: string;

  beforeAll(async () => {
    server = await startTestServer();
    const { db } = server.authgate;
    await db.user.create({ data: { username: 'plain', passwordHash: null } });
    adminToken = await issueToken(server, 'admin', ['admin']);
    // Bulk rows, one multi-row INSERT per 1,000: no newlines in any field, so a line is a row.
    const start = Date.now() - 3_600_000;
    for (let offset = 0; offset < BULK; offset += 1000) {
      const rows: Prisma.AuditEventCreateManyInput[] = [];
      for (let i = offset; i < offset + 1000; i++) {
        rows.push({
          id: randomUUID(),
          eventType: BULK_TYPE,
          severity: i % 10 === 0 ? 'WARNING' : 'INFO',
          success: true,
          actorUserId: null,
          actorUsername: `user-${i % 97}`,
          subjectType: 'token',
          subjectId: randomUUID(),
          clientId: 'bulk-client',
          ipAddress: '192.0.2.1',
          userAgent: 'export-test/1.0 (a realistic user agent string of some length)',
          details: JSON.stringify({ n: i, scope: 'openid profile email', note: 'padding to make a row look like a real one' }),
          createdAt: new Date(start + i),
        });
      }
      await insertAuditBatch(db, server.config.database.dialect, rows);
    }
    await db.auditEvent.create({
      data: { eventType: 'FORMULA_TEST', severity: 'INFO', actorUsername: '=HYPERLINK("http://evil.example")', details: '{"a":"x, \\"quoted\\""}' },
    });
  }, 60_000);
  afterAll(() => server.close());

  const exportUrl = (params: Record<string, string> = {}) => `${server.url}/admin/audit/export?${new URLSearchParams(params)}`;

  test('anonymous callers get a 401 page, a signed-in non-admin a 403 page', async () => {
    const anonymous = await fetch(exportUrl());
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('text/html');
    expect(await anonymous.text()).toContain('Sign in as an administrator');

    const { db } = server.authgate;
    const { hashPassword } = await import('../helpers/passwords.js');
    await db.user.update({ where: { username: 'plain' }, data: { passwordHash: await hashPassword('plain-password-1') } });
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login('plain', 'plain-password-1')).status).toBe(302);
    const refused = await browser.get('/admin/audit/export');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('Only administrators');
  });

  test('Bearer callers: a non-admin token is 403 insufficient_scope, an admin token without the admin scope too, a bad token 401', async () => {
    const plainToken = await issueToken(server, 'plain', ['admin']);
    const asPlain = await fetch(exportUrl(), { headers: { authorization: `Bearer ${plainToken}` } });
    expect(asPlain.status).toBe(403);
    expect(asPlain.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect(await asPlain.json()).toMatchObject({ error: 'insufficient_scope' });

    const adminNoScope = await issueToken(server, 'admin', ['openid']);
    expect((await fetch(exportUrl(), { headers: { authorization: `Bearer ${adminNoScope}` } })).status).toBe(403);

    const bad = await fetch(exportUrl(), { headers: { authorization: 'Bearer not-a-token' } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token');
  });

  test('the signed-in admin downloads the filtered log as quoted CSV; formulas are neutralised', async () => {
    const browser = new ScriptedBrowser(server.url);
    await browser.login('admin', ADMIN_PASSWORD);
    const page = await browser.get(`/admin/audit/export?types=FORMULA_TEST`);
    expect(page.status).toBe(200);
    const lines = page.html.trim().split('\n');
    expect(lines[0]).toBe('id,createdAt,eventType,severity,success,actorUserId,actorUsername,subjectType,subjectId,clientId,ipAddress,userAgent,details');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(lines[1]).toContain('"{""a"":""x, \\""quoted\\""""}"');
  });

  test('actorId takes the GraphQL global ID or the plain id', async () => {
    const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    await server.authgate.services.audit.recordNow({ eventType: 'ACTOR_FILTER_TEST', actor: { userId: admin.id, username: 'admin' } });
    await server.authgate.services.audit.recordNow({ eventType: 'ACTOR_FILTER_TEST', actor: { userId: null, username: 'nobody' } });
    for (const actorId of [admin.id, Buffer.from(`User:${admin.id}`).toString('base64')]) {
      const res = await fetch(exportUrl({ types: 'ACTOR_FILTER_TEST', actorId }), { headers: { authorization: `Bearer ${adminToken}` } });
      const rows = (await res.text()).trim().split('\n').slice(1);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toContain(admin.id);
    }
  });

  test('bad filter values get a 400 page, not a 500', async () => {
    const res = await fetch(exportUrl({ severities: 'LOUD' }), { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('unknown severity: LOUD');
    const date = await fetch(exportUrl({ since: 'yesterday' }), { headers: { authorization: `Bearer ${adminToken}` } });
    expect(date.status).toBe(400);
  });

  test('filters apply: severities and search', async () => {
    const res = await fetch(exportUrl({ types: BULK_TYPE, severities: 'WARNING', search: 'user-5' }), { headers: { authorization: `Bearer ${adminToken}` } });
    const lines = (await res.text()).trim().split('\n').slice(1);
    // i % 10 === 0 and i % 97 in {5, 50..59}: count computed the same way the rows were made.
    let expected = 0;
    for (let i = 0; i < BULK; i++) if (i % 10 === 0 && `user-${i % 97}`.includes('user-5')) expected++;
    expect(lines).toHaveLength(expected);
    expect(lines.every((l) => l.includes(',WARNING,'))).toBe(true);
  });

  test(`${BULK.toLocaleString('en')} events stream in order with flat memory`, async () => {
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = 0;
    // Retained heap is sampled (after a full collection) every few megabytes received, mid-stream:
    // a handful of collections, where a timer-driven sampler would starve the in-process server of
    // CPU whenever the test process's heap is large (late in a full run).
    const SAMPLE_EVERY_BYTES = 6_000_000;
    let nextSample = SAMPLE_EVERY_BYTES;
    const started = Date.now();
    let bytes = 0;
    let lines = 0;
    let firstLine = '';
    let tail = '';
    const res = await fetch(exportUrl({ types: BULK_TYPE }), { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      if (firstLine === '' && lines === 0) firstLine = text.slice(0, text.indexOf('\n'));
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
      tail = (tail + text).slice(-400);
      if (bytes >= nextSample) {
        nextSample += SAMPLE_EVERY_BYTES;
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(firstLine.startsWith('id,createdAt,eventType')).toBe(true);
    expect(lines).toBe(BULK + 1);
    // Newest first: the last row is the oldest bulk event (n = 0).
    expect(tail).toContain('""n"":0,');
    // The CSV is tens of megabytes and the rows as objects several times that; the server kept
    // a chunk at a time, so the retained heap stays a small fraction of the data.
    expect(bytes).toBeGreaterThan(30_000_000);
    expect(peak).toBeLessThan(bytes / 3);
    console.log(`audit export: ${((Date.now() - started) / 1000).toFixed(1)} s, ${lines - 1} rows, ${(bytes / 1e6).toFixed(1)} MB of CSV, peak retained heap growth ${(peak / 1e6).toFixed(1)} MB`);
  }, 300_000); // about 12 s alone; far more on a machine shared with other test runs
});
