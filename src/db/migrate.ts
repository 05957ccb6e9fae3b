// Applies prisma/migrations/<dialect>/*/migration.sql at startup. Prisma 7's own `migrate deploy` needs a
// native schema engine that is not available everywhere we run, and the SQL files are plain DDL, so a small
// runner with its own bookkeeping table does the job with the drivers we already ship.
//
// Each migration runs in one transaction together with its bookkeeping row, so a failure leaves neither
// half-built tables nor a row claiming success. Migration files are immutable once applied: a changed
// checksum means the database may not match what the code expects, and the process refuses to start.
import Database from 'better-sqlite3';
import pg from 'pg';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../domain/errors.js';
import { SQLITE_BUSY_TIMEOUT_MS, SQLITE_CONNECTION_SETUP } from './client.js';

export type MigrationTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgresql'; url: string };

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  name: string;
  checksum: string;
}

const TABLE = '_authgate_migrations';
// Any fixed bigint works; it only has to be the same in every instance of this server.
const PG_LOCK_KEY = '7249146539125817';

/** Both src/db/migrate.ts and dist/db/migrate.js sit two levels below the repository root. */
export function defaultMigrationsDir(dialect: MigrationTarget['dialect']): string {
  return fileURLToPath(new URL(`../../prisma/migrations/${dialect}/`, import.meta.url));
}

export async function runMigrations(target: MigrationTarget, migrationsDir?: string): Promise<{ applied: string[] }> {
  const migrations = loadMigrations(migrationsDir ?? defaultMigrationsDir(target.dialect));
  return target.dialect === 'sqlite' ? migrateSqlite(target.file, migrations) : migratePostgres(target.url, migrations);
}

function loadMigrations(dir: string): Migration[] {
  // An empty set would silently start the server on an empty database, e.g. when a deployment forgot to ship prisma/.
  if (!existsSync(dir)) throw new ConfigError(`migrations folder not found: ${dir}`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) throw new ConfigError(`no migrations found in ${dir}`);
  return names.map((name) => {
    const bytes = readFileSync(join(dir, name, 'migration.sql'));
    return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
  });
}

/** Refuses a database whose history does not agree with the files; returns what is left to apply. */
function pending(migrations: Migration[], applied: AppliedRow[]): Migration[] {
  const known = new Map(migrations.map((m) => [m.name, m]));
  for (const row of applied) {
    const local = known.get(row.name);
    if (!local) {
      throw new ConfigError(`database has migration ${row.name} applied, which this build does not have: is an older version running against a newer database?`);
    }
    if (local.checksum !== row.checksum) {
      throw new ConfigError(`migration ${row.name} was changed after it was applied (checksum mismatch); add a new migration instead of editing it`);
    }
  }
  const done = new Set(applied.map((r) => r.name));
  return migrations.filter((m) => !done.has(m.name));
}

function failed(name: string, err: unknown): ConfigError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ConfigError(`migration ${name} failed and was rolled back: ${reason}`, { cause: err });
}

function migrateSqlite(file: string, migrations: Migration[]): { applied: string[] } {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    // WAL is a property of the file, so setting it here covers every later connection (the Prisma adapter's too).
    db.pragma('journal_mode = WAL');
    db.exec(SQLITE_CONNECTION_SETUP);
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
    const readApplied = () => db.prepare(`SELECT name, checksum FROM ${TABLE} ORDER BY name`).all() as AppliedRow[];
    const applied: string[] = [];
    for (const m of pending(migrations, readApplied())) {
      // Prisma rebuilds a SQLite table to alter it (create copy, DROP TABLE, rename). With foreign keys on, that
      // DROP deletes the rows first and fires ON DELETE CASCADE on every referencing table; the script's own
      // `PRAGMA foreign_keys=OFF` is a no-op inside a transaction. So keys are off outside the transaction and
      // checked in full before commit instead.
      db.pragma('foreign_keys = OFF');
      try {
        // IMMEDIATE takes the write lock now, so another process migrating the same file waits here (busy_timeout)
        // and then sees that the migration is already there.
        db.exec('BEGIN IMMEDIATE');
        const row = db.prepare(`SELECT name, checksum FROM ${TABLE} WHERE name = ?`).get(m.name) as AppliedRow | undefined;
        if (row) {
          db.exec('COMMIT');
          pending(migrations, [row]);
          continue;
        }
        db.exec(m.sql);
        const violations = db.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) throw new Error(`leaves ${violations.length} foreign key violation(s): ${JSON.stringify(violations.slice(0, 3))}`);
        db.prepare(`INSERT INTO ${TABLE} (name, checksum) VALUES (?, ?)`).run(m.name, m.checksum);
        db.exec('COMMIT');
        applied.push(m.name);
      } catch (err) {
        // Some SQLite errors (disk full, I/O) already rolled the transaction back.
        if (db.inTransaction) db.exec('ROLLBACK');
        if (err instanceof ConfigError) throw err;
        throw failed(m.name, err);
      } finally {
        db.pragma('foreign_keys = ON');
      }
    }
    return { applied };
  } finally {
    db.close();
  }
}

async function migratePostgres(url: string, migrations: Migration[]): Promise<{ applied: string[] }> {
  const client = new pg.Client({ connectionString: url });
  // A connection dropped by the server would otherwise be an unhandled 'error' event; the query in flight fails anyway.
  client.on('error', () => {});
  await client.connect();
  try {
    // A session lock around the whole run, taken before anything else (even creating the bookkeeping table),
    // so instances starting together run one after the other and the later ones find nothing to do.
    await client.query(`SELECT pg_advisory_lock(${PG_LOCK_KEY})`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${TABLE} (name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<AppliedRow>(`SELECT name, checksum FROM ${TABLE} ORDER BY name`);
    const applied: string[] = [];
    for (const m of pending(migrations, rows)) {
      try {
        await client.query('BEGIN');
        // No parameters: pg then uses the simple query protocol, which accepts a multi-statement script.
        await client.query(m.sql);
        await client.query(`INSERT INTO ${TABLE} (name, checksum) VALUES ($1, $2)`, [m.name, m.checksum]);
        await client.query('COMMIT');
        applied.push(m.name);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw failed(m.name, err);
      }
    }
    return { applied };
  } finally {
    // Ending the session also releases the advisory lock.
    await client.end().catch(() => {});
  }
}
