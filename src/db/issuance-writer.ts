// Group commit for the hottest write: a client_credentials token and its audit event. Each request
// waits until its own rows are durable, but the rows of every request that arrived meanwhile share
// one transaction (and, on SQLite, one WAL fsync): throughput grows with load instead of each token
// paying a commit of its own.
//
// Why these statements bypass Prisma: on this path the query engine (query building, the adapter's
// per-call `prepare`, result mapping) cost more CPU than the database did. SQLite runs two statements
// prepared once, on a thread and connection of their own (sqlite-issuance-worker.js); PostgreSQL runs
// one statement for the whole batch: INSERT … SELECT FROM unnest(…) into both tables (PG_ISSUE). The rule is
// services/grant-validity.ts's for a grant with no user: the token row is written
// only if its client is still active and approved, read FOR SHARE on PostgreSQL (a client revocation,
// which updates that row first, waits for the batch or is waited for); on SQLite the batch holds the
// only write lock. No interactive transaction: concurrent issuers never wait for each other's locks.
import pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import { Worker } from 'node:worker_threads';
import { AUDIT_COLUMNS, AUDIT_PG_TYPES, auditRowValues } from './audit-batch.js';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_CONNECTION_SETUP, sqliteTurn, type Db, type Prisma } from './client.js';
import type { SqliteTurn } from './sqlite-serialized.js';

/** A client-only access token row (no user, no parent, nothing redeemed). */
export interface ClientTokenRow {
  id: string;
  tokenHash: string;
  jti: string;
  scopes: string;
  audience: string;
  grantType: string;
  /** OAuthClient row id. */
  clientId: string;
  familyId: string;
  expiresAt: Date;
  createdAt: Date;
}

/** An audit_events row as AuditLog builds it (id and time set). */
export type AuditRow = Prisma.AuditEventCreateManyInput & { id: string; createdAt: Date };

export interface Issuance {
  token: ClientTokenRow;
  /** Written in the same transaction, only if the token is; null when audit logging is off. */
  audit: AuditRow | null;
}

/** When a device code was last polled and its interval (RFC 8628 §3.5), written behind the polls (device-codes.ts). */
export interface PollState {
  /** DeviceCode row id. */
  id: string;
  lastPolledAt: Date;
  interval: number;
}

export interface IssuanceStore {
  /** Writes a batch in one transaction; for each issuance, whether its token was written (false: the client was refused). */
  write(batch: Issuance[]): Promise<boolean[]>;
  recordPolls(polls: PollState[]): Promise<void>;
  close(): Promise<void>;
}

// --- SQLite ------------------------------------------------------------------------------------------

// How Prisma's SQLite adapter stores DateTime (adapter-better-sqlite3 mapArg, iso8601 format), so rows
// written here read back exactly like rows Prisma wrote.
const sqliteTime = (d: Date) => d.toISOString().replace('Z', '+00:00');

/** The writer's token INSERT (exported for the test that shows why its connection keeps statement journals in memory). */
export const SQLITE_TOKEN = `
  INSERT INTO "tokens" ("id", "tokenHash", "jti", "category", "scopes", "audience", "grantType", "clientId", "familyId", "expiresAt", "createdAt")
  SELECT ?, ?, ?, 'access', ?, ?, ?, "id", ?, ?, ? FROM "oauth_clients" WHERE "id" = ? AND "active" = 1 AND "approvalStatus" = 'approved'`;

const SQLITE_AUDIT = `INSERT INTO "audit_events" (${AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`;

const SQLITE_POLL = `UPDATE "device_codes" SET "lastPolledAt" = ?, "interval" = ? WHERE "id" = ?`;

const SQLITE_WORKER = new URL('./sqlite-issuance-worker.js', import.meta.url);

// The writer's connection runs the setup every connection runs, and keeps its statement journals in
// memory. A token's INSERT … SELECT may write several rows as far as SQLite knows, so inside the batch's
// transaction SQLite keeps the pages it changes in a statement journal (to undo that statement alone),
// and once a journal passes 64 KiB it moves to a temporary file. With the default (temp_store=FILE) nearly
// every commit under load created, wrote and unlinked a file in /var/tmp: 14 µs of the writer's system
// time a token (45 → 31 µs, bench load, alternated runs), and a commit that depended on a writable
// temporary directory. Only here: on Prisma's connection it would also keep every temporary sort and
// index of an admin query in memory, however large.
const SQLITE_WRITER_SETUP = `${SQLITE_CONNECTION_SETUP} PRAGMA temp_store = MEMORY;`;

type WorkerAnswer = { id: number; results: boolean[] } | { id: number; error: { message: string; code?: string } };
type WorkerRequestKind = 'issue' | 'polls' | 'flushes';

/** Writes through sqlite-issuance-worker.js (a thread with its own connection): the fsync of a commit never stalls the event loop. */
export class SqliteIssuanceStore implements IssuanceStore {
  private worker?: Worker;
  private readonly pending = new Map<number, { resolve: (results: boolean[]) => void; reject: (err: Error) => void }>();
  private nextId = 1;

  constructor(
    private readonly settings: { file: string; busyTimeoutMs: number },
    /** Prisma's connection stays out of the way while batches commit (sqlite-serialized.ts); batches share the turn. */
    private readonly turn: SqliteTurn,
  ) {}

  write(batch: Issuance[]): Promise<boolean[]> {
    const items = batch.map(({ token: t, audit: a }) => [
      [t.id, t.tokenHash, t.jti, t.scopes, t.audience, t.grantType, t.familyId, sqliteTime(t.expiresAt), sqliteTime(t.createdAt), t.clientId],
      a ? auditRowValues(a).map((v) => (v instanceof Date ? sqliteTime(v) : typeof v === 'boolean' ? Number(v) : v)) : null,
    ]);
    return this.turn.share(() => this.send('issue', items));
  }

  async recordPolls(polls: PollState[]): Promise<void> {
    const items = polls.map((p) => [sqliteTime(p.lastPolledAt), p.interval, p.id]);
    await this.turn.share(() => this.send('polls', items));
  }

  /** Whether the writer's connection flushes the WAL at every commit (SQLITE_CONNECTION_SETUP took effect). */
  async flushesEveryCommit(): Promise<boolean> {
    const [flushes] = await this.send('flushes', []);
    return flushes === true;
  }

  private send(kind: WorkerRequestKind, items: unknown[]): Promise<boolean[]> {
    const id = this.nextId++;
    return new Promise<boolean[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // As one JSON string: cloning a string is a copy, cloning nested arrays is a walk (it was a tenth of the token endpoint's time).
      this.thread().postMessage({ id, kind, items: JSON.stringify(items) });
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(SQLITE_WORKER, { workerData: { ...this.settings, setup: SQLITE_WRITER_SETUP, tokenSql: SQLITE_TOKEN, auditSql: SQLITE_AUDIT, pollSql: SQLITE_POLL } });
    worker.on('message', (answer: WorkerAnswer) => {
      const waiting = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if (!waiting) return;
      if ('results' in answer) waiting.resolve(answer.results);
      else waiting.reject(Object.assign(new Error(answer.error.message), answer.error.code ? { code: answer.error.code } : {}));
    });
    // A thread that dies fails what it held; the next write starts a new one.
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite issuance writer exited (${code})`)));
    // Idle, it must not keep the process alive; a request waiting on it does.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}

// --- PostgreSQL --------------------------------------------------------------------------------------

// timestamp(3) columns hold UTC wall time (as Prisma's pg adapter writes it): sent as text, never as a
// Date, which node-postgres would render in the process's local zone.
const pgTime = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

// One statement for the whole batch: the tokens, then the audit events of the tokens that were
// written, in data-modifying CTEs. A statement is its own transaction, so both are committed
// together or not at all, as with BEGIN … COMMIT, but in one round trip to the server instead of
// four (BEGIN, two INSERTs, COMMIT): each round trip waited for PostgreSQL's process to be scheduled
// and answer while the batch's requests waited. Each audit row names its token (the last array), and
// only rows whose token is in `written` are inserted.
const PG_TOKEN_PARAMS = 10;
const PG_ISSUE = `
  WITH "written" AS (
    INSERT INTO "tokens" ("id", "tokenHash", "jti", "category", "scopes", "audience", "grantType", "clientId", "familyId", "expiresAt", "createdAt")
    SELECT v."id", v."tokenHash", v."jti", 'access', v."scopes", v."audience", v."grantType", c."id", v."familyId", v."expiresAt", v."createdAt"
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamp(3)[], $10::timestamp(3)[])
      AS v("id", "tokenHash", "jti", "scopes", "audience", "grantType", "clientId", "familyId", "expiresAt", "createdAt")
    JOIN "oauth_clients" c ON c."id" = v."clientId"
    WHERE c."active" = TRUE AND c."approvalStatus" = 'approved'
    FOR SHARE OF c
    RETURNING "id"
  ), "audited" AS (
    INSERT INTO "audit_events" (${AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ')})
    SELECT ${AUDIT_COLUMNS.map((c) => `a."${c}"`).join(', ')}
    FROM unnest(${AUDIT_COLUMNS.map((c, i) => `$${PG_TOKEN_PARAMS + 1 + i}::${AUDIT_PG_TYPES[c]}[]`).join(', ')}, $${PG_TOKEN_PARAMS + AUDIT_COLUMNS.length + 1}::text[])
      AS a(${AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ')}, "tokenId")
    WHERE a."tokenId" IN (SELECT "id" FROM "written")
  )
  SELECT "id" FROM "written"`;

const PG_POLLS = `
  UPDATE "device_codes" AS d SET "lastPolledAt" = v."lastPolledAt", "interval" = v."interval"
  FROM unnest($1::text[], $2::timestamp(3)[], $3::int[]) AS v("id", "lastPolledAt", "interval")
  WHERE d."id" = v."id"`;

// PG_ISSUE and PG_POLLS are sent by name (`name` in node-postgres's query config): each connection
// parses and plans them once and afterwards only binds the arrays. Sent as plain text, PostgreSQL
// parsed and planned the two CTEs and their 25 parameters again for every batch. Measured with the
// bench's client-credentials load (2 vCPU AMD EPYC, 32 connections, four alternated 5-second rounds,
// ours only): PostgreSQL's CPU 184 → 124 µs a token, 2,220 → 2,531 tokens/s, every round in favour.
// Behind a pooler, this needs one that keeps prepared statements per server connection (PgBouncer ≥
// 1.21 with max_prepared_statements, or session pooling).
export class PostgresIssuanceStore implements IssuanceStore {
  private readonly pool: pg.Pool;

  constructor(url: string, connections: number) {
    this.pool = new pg.Pool({ connectionString: url, max: connections });
    // An idle connection that dies is replaced on next use; the error must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async write(batch: Issuance[]): Promise<boolean[]> {
    const column = <K extends keyof ClientTokenRow>(key: K) => batch.map((i) => i.token[key]);
    const audited = batch.filter((i) => i.audit);
    const auditRows = audited.map((i) => auditRowValues(i.audit!));
    const inserted = await this.pool.query<{ id: string }>({ name: 'authgate_issue', text: PG_ISSUE, values: [
      column('id'),
      column('tokenHash'),
      column('jti'),
      column('scopes'),
      column('audience'),
      column('grantType'),
      column('clientId'),
      column('familyId'),
      batch.map((i) => pgTime(i.token.expiresAt)),
      batch.map((i) => pgTime(i.token.createdAt)),
      ...AUDIT_COLUMNS.map((_, c) =>
        auditRows.map((values) => {
          const v = values[c];
          return v instanceof Date ? pgTime(v) : v;
        }),
      ),
      audited.map((i) => i.token.id),
    ] });
    const written = new Set(inserted.rows.map((r) => r.id));
    return batch.map((i) => written.has(i.token.id));
  }

  async recordPolls(polls: PollState[]): Promise<void> {
    await this.pool.query({ name: 'authgate_polls', text: PG_POLLS, values: [polls.map((p) => p.id), polls.map((p) => pgTime(p.lastPolledAt)), polls.map((p) => p.interval)] });
  }

  /** The statements this store's connection has prepared (pg_prepared_statements), with how often each ran: for the test that they are reused. */
  async preparedStatements(): Promise<{ name: string; executions: number }[]> {
    const { rows } = await this.pool.query<{ name: string; executions: string }>(
      'SELECT "name", "generic_plans" + "custom_plans" AS "executions" FROM pg_prepared_statements ORDER BY "name"',
    );
    return rows.map((r) => ({ name: r.name, executions: Number(r.executions) }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export async function createIssuanceStore(database: DatabaseConfig, db: Db): Promise<IssuanceStore> {
  if (database.dialect === 'sqlite') return new SqliteIssuanceStore({ file: database.file, busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS }, await sqliteTurn(db));
  // Two connections: one batch being committed while the next one is being sent.
  return new PostgresIssuanceStore(database.url, 2);
}

// --- The batching ------------------------------------------------------------------------------------

interface Waiting<I, O> {
  item: I;
  resolve: (result: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Collects what is submitted while a batch is being written and writes it as the next batch. A batch
 * starts on the next turn of the event loop after the first submission (so requests that arrived
 * together go together), never waits on a timer, and at most `inFlight` batches are written at once.
 * A batch that fails is retried item by item, so one bad row cannot fail the others.
 */
export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private writing = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly writeBatch: (items: I[]) => Promise<O[]>,
    private readonly opts: { maxBatch: number; inFlight: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Resolves once everything submitted so far is written (or failed). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.writing === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.writing < this.opts.inFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch);
      this.writing++;
      void this.write(batch);
    }
  }

  private async write(batch: Waiting<I, O>[]): Promise<void> {
    let results: O[] | undefined;
    let failure: unknown;
    try {
      results = await this.writeBatch(batch.map((w) => w.item));
    } catch (err) {
      failure = err;
    }
    if (results) {
      // The next batch is sent before this one's requests go on: each of them now builds and writes
      // its response, and a batch sent after all of that found the writer idle the whole time
      // (measured on SQLite: 5,406 → 5,844 tokens/s, bench load, six alternated rounds, all in favour).
      this.writing--;
      this.pump();
      const written = results;
      batch.forEach((w, i) => w.resolve(written[i]!));
    } else {
      // A failed batch keeps its slot until its items are retried.
      await this.retryEach(batch, failure);
      this.writing--;
      this.pump();
    }
    if (this.queue.length === 0 && this.writing === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async retryEach(batch: Waiting<I, O>[], failure: unknown): Promise<void> {
    if (batch.length === 1) return batch[0]!.reject(failure);
    for (const w of batch) {
      try {
        w.resolve((await this.writeBatch([w.item]))[0]!);
      } catch (single) {
        w.reject(single);
      }
    }
  }
}
