// The issuance writer's batches share Prisma's SQLite connection turn (sqlite-serialized.ts): two
// batches can be on their way to the writer thread at once, while a Prisma transaction or query never
// overlaps one, and one waiting for the turn is not overtaken by batches sent after it. Runs on SQLite
// whatever the suite's database (the turn exists only there).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrismaClient, sqliteTurn, type Db, type OAuthClient } from '../../src/db/client.js';
import { createIssuanceStore, type IssuanceStore } from '../../src/db/issuance-writer.js';
import { runMigrations } from '../../src/db/migrate.js';
import type { SqliteTurn } from '../../src/db/sqlite-serialized.js';
import { clientIssuance } from '../helpers/issuances.js';

let dir: string;
let db: Db;
let turn: SqliteTurn;
let store: IssuanceStore;
let client: OAuthClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authgate-turn-'));
  const file = join(dir, 'authgate.db');
  await runMigrations({ dialect: 'sqlite', file });
  db = createPrismaClient({ dialect: 'sqlite', file });
  turn = await sqliteTurn(db);
  store = await createIssuanceStore({ dialect: 'sqlite', file }, db);
  client = await db.oAuthClient.create({ data: { clientId: randomUUID(), name: 'turn', clientType: 'confidential', enableClientCredentials: true } });
  // The writer's thread starts with its first batch: started here, so the tests time the writes, not its start.
  await store.write([clientIssuance(client)]);
});

afterAll(async () => {
  await store.close();
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** A shared run (as a batch is) that logs 'a starts', holds the turn until released, then logs 'a ends'. */
function heldRun(log: string[]) {
  const held = gate();
  const done = turn.share(async () => {
    log.push('a starts');
    await held.opened;
    log.push('a ends');
  });
  return { done, release: held.open };
}

/** Lets every pending promise job and I/O callback run (the turn hands over through promises). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('a shared run starts beside one that holds the turn', async () => {
  const log: string[] = [];
  const a = heldRun(log);
  const b = turn.share(async () => void log.push('b runs'));
  await settle();
  expect(log).toEqual(['a starts', 'b runs']);
  a.release();
  await Promise.all([a.done, b]);
});

test('a Prisma transaction waiting for the turn goes before shared runs that arrive after it', async () => {
  const log: string[] = [];
  const a = heldRun(log);
  await settle();
  const transaction = db.$transaction(async (tx) => {
    log.push('transaction starts');
    await tx.oAuthClient.count();
    log.push('transaction ends');
  });
  await settle();
  const late = turn.share(async () => void log.push('late run'));
  await settle();
  // Neither the transaction nor the run behind it got in while `a` held the turn.
  expect(log).toEqual(['a starts']);
  a.release();
  await Promise.all([a.done, transaction, late]);
  expect(log).toEqual(['a starts', 'a ends', 'transaction starts', 'transaction ends', 'late run']);
});

test('no batch commits inside an open Prisma transaction, which reads, waits, then writes without a stale snapshot', async () => {
  const midway = gate();
  const reading = gate();
  const log: string[] = [];
  const transaction = db.$transaction(async (tx) => {
    const before = await tx.token.count();
    reading.open();
    await midway.opened;
    // A deferred BEGIN that read first: had the writer committed in between, SQLite could not upgrade
    // this read snapshot to a write (SQLITE_BUSY_SNAPSHOT), whatever the busy timeout.
    await tx.oAuthClient.update({ where: { id: client.id }, data: { name: 'renamed in the transaction' } });
    log.push('transaction writes');
    return before;
  });
  await reading.opened;
  const batches = [[clientIssuance(client), clientIssuance(client)], [clientIssuance(client)]];
  const writes = batches.map((batch) => store.write(batch).then((written) => (log.push('batch written'), written)));
  await settle();
  expect(log).toEqual([]);
  midway.open();
  const before = await transaction;
  expect(await Promise.all(writes)).toEqual([[true, true], [true]]);
  expect(log).toEqual(['transaction writes', 'batch written', 'batch written']);
  expect(await db.token.count()).toBe(before + 3);
});

test('batches sent together are all written, each with its events, under one shared turn', async () => {
  const batches = Array.from({ length: 8 }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => clientIssuance(client)));
  const results = await Promise.all(batches.map((batch) => store.write(batch)));
  expect(results).toEqual(batches.map((batch) => batch.map(() => true)));
  const ids = batches.flat().map((i) => i.token.id);
  expect(await db.token.count({ where: { id: { in: ids } } })).toBe(ids.length);
  expect(await db.auditEvent.count({ where: { subjectId: { in: ids } } })).toBe(ids.length);
  // The turn is free again: a transaction starts and ends.
  await expect(db.$transaction(async (tx) => tx.token.count({ where: { id: { in: ids } } }))).resolves.toBe(ids.length);
});
