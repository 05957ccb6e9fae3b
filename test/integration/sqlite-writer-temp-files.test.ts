// The SQLite issuance writer commits its batches without temporary files (SQLITE_WRITER_SETUP in
// db/issuance-writer.ts). Inside a batch's transaction each token's INSERT … SELECT keeps the pages it
// changes in a statement journal, which SQLite moves to a temporary file once it passes 64 KiB: with
// the default settings most commits created, wrote and unlinked one. SQLite puts its temporary files
// in one directory for the whole process (`PRAGMA temp_store_directory`, set here for the test and
// reset after), watched with inotify (fs.watch). Runs on SQLite whatever the suite's database.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrismaClient, type Db, type OAuthClient } from '../../src/db/client.js';
import { createIssuanceStore, SQLITE_TOKEN, type Issuance } from '../../src/db/issuance-writer.js';
import { runMigrations } from '../../src/db/migrate.js';
import { clientIssuance } from '../helpers/issuances.js';

const BATCHES = 50;
const BATCH_SIZE = 20;

let dir: string;
let file: string;
let tempDir: string;
let bare: Database.Database;
let db: Db;
let client: OAuthClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authgate-tempfiles-'));
  tempDir = mkdtempSync(join(tmpdir(), 'authgate-sqlite-tmp-'));
  file = join(dir, 'authgate.db');
  await runMigrations({ dialect: 'sqlite', file });
  bare = new Database(file);
  bare.pragma(`temp_store_directory = '${tempDir}'`);
  db = createPrismaClient({ dialect: 'sqlite', file });
  client = await db.oAuthClient.create({ data: { clientId: randomUUID(), name: 'temp files', clientType: 'confidential', enableClientCredentials: true } });
});

afterAll(async () => {
  bare.pragma(`temp_store_directory = ''`);
  bare.close();
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
  rmSync(tempDir, { recursive: true, force: true });
});

/** What appeared in the temporary directory while `work` ran (names; inotify reports even a file unlinked at once). */
async function tempFilesDuring(work: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const watcher: FSWatcher = watch(tempDir, (_event, name) => seen.push(String(name)));
  try {
    await work();
    // inotify's events arrive through the event loop.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    watcher.close();
  }
  return [...new Set(seen)];
}

test("with the default settings, the writer's token INSERT spills its statement journals to temporary files (why the setting exists)", async () => {
  // The writer's own statement, on a connection without the writer's setup.
  const insertToken = bare.prepare(SQLITE_TOKEN);
  const writeBatch = bare.transaction((batch: Issuance[]) => {
    for (const { token: t } of batch) {
      insertToken.run(t.id, t.tokenHash, t.jti, t.scopes, t.audience, t.grantType, t.familyId, t.expiresAt.toISOString(), t.createdAt.toISOString(), t.clientId);
    }
  });
  const files = await tempFilesDuring(async () => {
    for (let b = 0; b < BATCHES; b++) writeBatch.immediate(Array.from({ length: BATCH_SIZE }, () => clientIssuance(client)));
  });
  expect(files.length).toBeGreaterThan(0);
});

test("the issuance writer's batches create no temporary file", async () => {
  const store = await createIssuanceStore({ dialect: 'sqlite', file }, db);
  try {
    const files = await tempFilesDuring(async () => {
      for (let b = 0; b < BATCHES; b++) expect(await store.write(Array.from({ length: BATCH_SIZE }, () => clientIssuance(client)))).toEqual(Array(BATCH_SIZE).fill(true));
    });
    expect(files).toEqual([]);
    expect(await db.token.count({ where: { clientId: client.id } })).toBeGreaterThanOrEqual(BATCHES * BATCH_SIZE);
  } finally {
    await store.close();
  }
});
