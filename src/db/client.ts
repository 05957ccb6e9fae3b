// The Prisma client for the configured dialect. Prisma generates one client per provider
// (see prisma/generate.mjs); both expose the same model API, so the rest of the code is written
// against one type and never knows which database it talks to.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.js';
import { PrismaClient as PostgresClient } from '../generated/postgresql/client.js';
import type { DatabaseConfig } from '../config/env.js';
import { serializeSqliteAdapter, type SqliteTurn } from './sqlite-serialized.js';

export type Db = SqliteClient;
export type {
  Prisma,
  User,
  OAuthClient,
  UserAuthorization,
  DeviceCode,
  AuthorizationCode,
  Token,
  Session,
  AuditEvent,
  SigningKey,
} from '../generated/sqlite/client.js';

// The turn of the connection behind each SQLite client made here, once Prisma has opened it (lazily).
const sqliteTurns = new WeakMap<object, Promise<SqliteTurn>>();

/** The connection turn of a SQLite client from createPrismaClient (the plain client, not an extension of it). */
export function sqliteTurn(db: Db): Promise<SqliteTurn> {
  const turn = sqliteTurns.get(db);
  if (!turn) throw new Error('not a SQLite client made by createPrismaClient');
  return db.$connect().then(() => turn);
}

/** SQLite's busy timeout on every connection (Prisma's and the issuance writer's): how long a writer waits for another. */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * Run on every SQLite connection this server opens (Prisma's, the issuance writer's, the migration
 * runner's). better-sqlite3 is compiled with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1: a connection that opens
 * a database already in WAL mode (every connection after the first start's migration runner) runs with
 * synchronous=NORMAL, where a commit is written to the WAL but not flushed to the disk. Such a commit
 * survives the process being killed, not a power cut or an operating-system crash, after which the last
 * commits can be gone: tokens already answered, their audit events, a revocation (the token would work
 * again). FULL flushes the WAL at every commit, as PostgreSQL does by default (synchronous_commit=on).
 */
export const SQLITE_CONNECTION_SETUP = 'PRAGMA synchronous = FULL;';

export function createPrismaClient(database: DatabaseConfig): Db {
  if (database.dialect === 'sqlite') {
    mkdirSync(dirname(database.file), { recursive: true });
    // better-sqlite3 is built with foreign keys on; `timeout` is SQLite's busy timeout, so a writer
    // waits for another instead of failing at once. WAL is set on the file by the migration runner.
    // Serialised so that a query outside a transaction never runs inside another request's open one (see sqlite-serialized.ts).
    let connected!: (turn: SqliteTurn) => void;
    const turn = new Promise<SqliteTurn>((resolve) => (connected = resolve));
    const client = new SqliteClient({
      adapter: serializeSqliteAdapter(new PrismaBetterSqlite3({ url: `file:${database.file}`, timeout: SQLITE_BUSY_TIMEOUT_MS }), {
        setup: SQLITE_CONNECTION_SETUP,
        onConnect: (t) => connected(t),
      }),
    });
    sqliteTurns.set(client, turn);
    return client;
  }
  const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: database.url, max: 10 }) });
  return client as unknown as Db;
}
