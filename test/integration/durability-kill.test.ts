// "Answered means stored": a token the server answered with 200 is in the database, with its
// ACCESS_TOKEN_ISSUED audit event, even when the process is killed with SIGKILL right after the
// response (no shutdown, no audit flush). Client-credentials tokens take the group commit
// (db/issuance-writer.ts), so each round fires many requests at once: the ones answered before the
// kill came from shared transactions, and the kill lands while later batches are still being written.
// The periodic audit flush is set to an hour, so only the write the token shares can have stored the event.
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { buildOnce, spawnBuilt } from '../helpers/build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { freePort, usingPostgres } from '../helpers/server.js';

const ROUNDS = 6;
const REQUESTS_PER_ROUND = 40;
const REGISTRATION_TOKEN = randomBytes(32).toString('base64url');

let dataDir: string;
let database: TestDatabase | null = null;

beforeAll(async () => {
  await buildOnce();
  dataDir = mkdtempSync(join(tmpdir(), 'authgate-kill-'));
  database = usingPostgres ? await createTestDatabase() : null;
}, 300_000);

afterAll(async () => {
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(port: number): Promise<ChildProcess> {
  const child = spawnBuilt({
    dataDir,
    port,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      LOG_LEVEL: 'error',
      ENABLE_RATE_LIMIT: 'false',
      ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
      DYNAMIC_CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN,
      AUDIT_FLUSH_INTERVAL: '1h',
      ...(database ? { DATABASE_URL: database.url } : {}),
    },
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
    const up = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (up) return child;
    if (i > 300) throw new Error('the server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sha256Hex = (value: string) => createHash('sha256').update(value).digest('hex');

interface Stored {
  tokenId: string | null;
  auditEvents: number;
}

/** Reads what the database holds for a token value, straight from the tables (no server involved). */
async function storedRecords(values: string[]): Promise<Stored[]> {
  const tokenSql = `SELECT "id" FROM "tokens" WHERE "tokenHash" = $1`;
  const auditSql = `SELECT COUNT(*) AS "n" FROM "audit_events" WHERE "eventType" = 'ACCESS_TOKEN_ISSUED' AND "subjectId" = $1`;
  if (database) {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const out: Stored[] = [];
      for (const value of values) {
        const id = (await client.query<{ id: string }>(tokenSql, [sha256Hex(value)])).rows[0]?.id ?? null;
        const n = id ? Number((await client.query<{ n: string }>(auditSql, [id])).rows[0]!.n) : 0;
        out.push({ tokenId: id, auditEvents: n });
      }
      return out;
    } finally {
      await client.end();
    }
  }
  const db = new Database(join(dataDir, 'authgate.db'), { readonly: true });
  try {
    const token = db.prepare(tokenSql.replace('$1', '?'));
    const audit = db.prepare(auditSql.replace('$1', '?'));
    return values.map((value) => {
      const row = token.get(sha256Hex(value)) as { id: string } | undefined;
      const n = row ? Number((audit.get(row.id) as { n: number | bigint }).n) : 0;
      return { tokenId: row?.id ?? null, auditEvents: n };
    });
  } finally {
    db.close();
  }
}

test(`client_credentials tokens answered with 200 survive SIGKILL with their audit events (${ROUNDS} rounds of ${REQUESTS_PER_ROUND} racing requests)`, async () => {
  const port = await freePort();
  let child = await startServer(port);
  const base = `http://127.0.0.1:${port}`;
  const registered = (await (
    await fetch(`${base}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify({ client_name: 'durability', grant_types: ['client_credentials'], scope: 'profile' }),
    })
  ).json()) as { client_id: string; client_secret: string };
  const basic = 'Basic ' + Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64');

  const answered: string[] = [];
  let killedWithRequestsOpen = 0;
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) child = await startServer(port);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let killed = false;
    let open = REQUESTS_PER_ROUND;
    const requests = Array.from({ length: REQUESTS_PER_ROUND }, async () => {
      try {
        const res = await fetch(`${base}/oauth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic, connection: 'close' },
          body: 'grant_type=client_credentials',
        });
        const body = (await res.json()) as { access_token?: string };
        if (res.status === 200 && body.access_token) {
          answered.push(body.access_token);
          // The first answer of the round pulls the plug: no shutdown, no flush, nothing after it runs.
          if (!killed) {
            killed = true;
            if (open > 1) killedWithRequestsOpen++;
            child.kill('SIGKILL');
          }
        }
      } catch {
        // Cut off by the kill: never answered, so nothing is promised about it.
      } finally {
        open--;
      }
    });
    await Promise.all(requests);
    if (!killed) child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
  }

  expect(answered.length).toBeGreaterThanOrEqual(ROUNDS);
  // The kill must land while the server still had work in hand, or the test proves nothing.
  expect(killedWithRequestsOpen).toBeGreaterThan(0);
  const stored = await storedRecords(answered);
  const missing = stored.filter((s) => s.tokenId === null).length;
  const unaudited = stored.filter((s) => s.tokenId !== null && s.auditEvents !== 1).length;
  expect({ answered: answered.length, missing, unaudited }).toEqual({ answered: answered.length, missing: 0, unaudited: 0 });
}, 180_000);
