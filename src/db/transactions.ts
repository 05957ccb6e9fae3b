// Write transactions that decide something from what they read (issuance re-checking its grant,
// revocation sweeping what a grant produced). The database, not the process, decides who wins:
// - PostgreSQL runs READ COMMITTED; readers that must not be outrun take row locks (`forShare`).
// - SQLite has one writer. A transaction opened with a plain BEGIN only takes the write lock at its
//   first write, so what it read before could be stale by then (and another process's commit in
//   between makes the upgrade fail at once, without the busy wait). A no-op write first gives
//   BEGIN IMMEDIATE semantics, so everything the transaction reads is read under the write lock.
import type { Db, Prisma } from './client.js';
import { Prisma as PrismaRuntime } from '../generated/sqlite/client.js';
import { TemporarilyUnavailable } from '../domain/errors.js';

export type Dialect = 'sqlite' | 'postgresql';
export type Tx = Prisma.TransactionClient;

// Prisma's defaults (2 s to start, 5 s to run) turn a burst of racing requests into 500s on a small
// machine; waiting a little longer is the better answer for requests this short.
const OPTIONS = { maxWait: 10_000, timeout: 20_000 };
const ATTEMPTS = 4;

/** Runs `fn` in one transaction; retries it when the database reports a lock conflict, then gives up with TemporarilyUnavailable. */
export async function writeTransaction<T>(db: Db, dialect: Dialect, fn: (tx: Tx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.$transaction(async (tx) => {
        // Matches no row, yet takes SQLite's write lock (checked in test/integration/issuance-races.test.ts).
        if (dialect === 'sqlite') await tx.$executeRaw`UPDATE "signing_keys" SET "kid" = "kid" WHERE 0`;
        return fn(tx);
      }, OPTIONS);
    } catch (err) {
      if (!isTransientConflict(err)) throw err;
      if (attempt >= ATTEMPTS) throw new TemporarilyUnavailable();
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 30));
    }
  }
}

/** `FOR SHARE` on PostgreSQL; nothing on SQLite, where the transaction already holds the only write lock. */
export function forShare(dialect: Dialect): Prisma.Sql {
  return dialect === 'postgresql' ? PrismaRuntime.raw(' FOR SHARE') : PrismaRuntime.empty;
}

/** `FOR UPDATE` on PostgreSQL (read-modify-write of one row); nothing on SQLite, as above. */
export function forUpdate(dialect: Dialect): Prisma.Sql {
  return dialect === 'postgresql' ? PrismaRuntime.raw(' FOR UPDATE') : PrismaRuntime.empty;
}

/** A boolean read with $queryRaw: SQLite hands back 0/1 (bigint with safe integers), PostgreSQL a boolean. */
export function sqlBool(value: unknown): boolean {
  return value === true || (typeof value !== 'boolean' && Number(value) === 1);
}

/**
 * Deadlock / serialization failure (PostgreSQL 40P01, 40001 → P2034), SQLite busy after its timeout
 * (P1008), or no transaction slot in time (P2028). Checked by code: each dialect has its own client classes.
 */
export function isTransientConflict(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return code === 'P2034' || code === 'P1008' || code === 'P2028';
}
