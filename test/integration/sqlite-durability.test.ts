// Every SQLite connection the server opens flushes the WAL at every commit (synchronous=FULL), so an
// answered token, its audit event and a revocation survive a power cut, not only a killed process.
// better-sqlite3 is built with SQLITE_DEFAULT_WAL_SYNCHRONOUS=1: without the setup in db/client.ts, a
// connection that opens a database already in WAL mode commits without flushing (the first test
// shows it on a bare connection). Runs on SQLite whatever the suite's database.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrismaClient, type Db } from '../../src/db/client.js';
import { createIssuanceStore, SqliteIssuanceStore } from '../../src/db/issuance-writer.js';
import { runMigrations } from '../../src/db/migrate.js';

const FULL = 2;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authgate-durability-'));
  file = join(dir, 'authgate.db');
  await runMigrations({ dialect: 'sqlite', file });
  // A second run, as at every later start: the file is already in WAL mode when it is opened.
  await runMigrations({ dialect: 'sqlite', file });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a bare connection to the WAL database would commit without flushing (why the setup exists)', () => {
  const bare = new Database(file);
  try {
    bare.prepare('SELECT count(*) FROM "tokens"').get();
    expect(bare.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(Number(bare.pragma('synchronous', { simple: true }))).toBeLessThan(FULL);
  } finally {
    bare.close();
  }
});

test("Prisma's connection flushes every commit", async () => {
  const db: Db = createPrismaClient({ dialect: 'sqlite', file });
  try {
    const [row] = await db.$queryRawUnsafe<{ synchronous: bigint | number }[]>('PRAGMA synchronous');
    expect(Number(row!.synchronous)).toBe(FULL);
  } finally {
    await db.$disconnect();
  }
});

test("the issuance writer's connection flushes every commit", async () => {
  const db: Db = createPrismaClient({ dialect: 'sqlite', file });
  const store = await createIssuanceStore({ dialect: 'sqlite', file }, db);
  try {
    expect(store).toBeInstanceOf(SqliteIssuanceStore);
    await expect((store as SqliteIssuanceStore).flushesEveryCommit()).resolves.toBe(true);
  } finally {
    await store.close();
    await db.$disconnect();
  }
});
