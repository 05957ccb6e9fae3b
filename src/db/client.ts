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
import { serializeSqliteAdapter, type SqliteConnection } from './sqlite-serialized.js';

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

// The SQLite connection behind each client made here, once Prisma has opened it (it connects lazily).
const sqliteConnections = new WeakMap<object, Promise<SqliteConnection>>();

/** The connection behind a SQLite client from createPrismaClient (the plain client, not an extension of it). */
export function sqliteConnection(db: Db): Promise<SqliteConnection> {
  const connection = sqliteConnections.get(db);
  if (!connection) throw new Error('not a SQLite client made by createPrismaClient');
  return db.$connect().then(() => connection);
}

export function createPrismaClient(database: DatabaseConfig): Db {
  if (database.dialect === 'sqlite') {
    mkdirSync(dirname(database.file), { recursive: true });
    // better-sqlite3 is built with foreign keys on; `timeout` is SQLite's busy timeout, so a writer
    // waits for another instead of failing at once. WAL is set on the file by the migration runner.
    // Serialised so that a query outside a transaction never runs inside another request's open one (see sqlite-serialized.ts).
    let connected!: (connection: SqliteConnection) => void;
    const connection = new Promise<SqliteConnection>((resolve) => (connected = resolve));
    const client = new SqliteClient({
      adapter: serializeSqliteAdapter(new PrismaBetterSqlite3({ url: `file:${database.file}`, timeout: 5000 }), (c) => connected(c)),
    });
    sqliteConnections.set(client, connection);
    return client;
  }
  const client = new PostgresClient({ adapter: new PrismaPg({ connectionString: database.url, max: 10 }) });
  return client as unknown as Db;
}
