// The group commit's store (db/issuance-writer.ts), on the suite's database (SQLite, or PostgreSQL with
// TEST_POSTGRES_URL): one batch writes each token whose client may receive it, each with its audit
// event, atomically, and nothing for a token whose client was refused, not even its event.
import { createIssuanceStore, PostgresIssuanceStore, type IssuanceStore } from '../../src/db/issuance-writer.js';
import { freshGrantParties } from '../helpers/grants.js';
import { clientIssuance } from '../helpers/issuances.js';
import { startTestServer, usingPostgres, type TestServer } from '../helpers/server.js';

let server: TestServer;
let store: IssuanceStore;

beforeAll(async () => {
  server = await startTestServer();
  store = await createIssuanceStore(server.config.database, server.authgate.db);
});

afterAll(async () => {
  await store.close();
  await server.close();
});

test('a batch writes the tokens of clients that may receive them with their events, and nothing of a refused one', async () => {
  const db = server.authgate.db;
  const { client: active } = await freshGrantParties(server);
  const { client: disabled } = await freshGrantParties(server);
  await db.oAuthClient.update({ where: { id: disabled.id }, data: { active: false } });
  const batch = [clientIssuance(active), clientIssuance(disabled), clientIssuance(active, false), clientIssuance(active)];
  expect(await store.write(batch)).toEqual([true, false, true, true]);

  const tokens = await db.token.findMany({ where: { id: { in: batch.map((i) => i.token.id) } } });
  expect(tokens.map((t) => t.id).sort()).toEqual([batch[0]!, batch[2]!, batch[3]!].map((i) => i.token.id).sort());
  const stored = tokens.find((t) => t.id === batch[0]!.token.id)!;
  expect(stored).toMatchObject({ jti: batch[0]!.token.jti, category: 'access', clientId: active.id, status: 'active', expiresAt: batch[0]!.token.expiresAt, createdAt: batch[0]!.token.createdAt });

  const events = await db.auditEvent.findMany({ where: { subjectId: { in: batch.map((i) => i.token.id) } } });
  expect(events.map((e) => e.id).sort()).toEqual([batch[0]!.audit!.id, batch[3]!.audit!.id].sort());
  expect(events.find((e) => e.id === batch[0]!.audit!.id)).toMatchObject({ eventType: 'ACCESS_TOKEN_ISSUED', severity: 'INFO', success: true, clientId: active.clientId, createdAt: batch[0]!.audit!.createdAt });
});

test('a batch that cannot be written fails whole: neither its tokens nor its events stay', async () => {
  const db = server.authgate.db;
  const { client } = await freshGrantParties(server);
  const first = clientIssuance(client);
  expect(await store.write([first])).toEqual([true]);
  // The second row repeats the first's token hash (unique): the statement fails, and the new row before it goes too.
  const fresh = clientIssuance(client);
  const clash = { ...clientIssuance(client), token: { ...clientIssuance(client).token, tokenHash: first.token.tokenHash } };
  await expect(store.write([fresh, clash])).rejects.toThrow();
  expect(await db.token.count({ where: { id: { in: [fresh.token.id, clash.token.id] } } })).toBe(0);
  expect(await db.auditEvent.count({ where: { id: { in: [fresh.audit!.id, clash.audit!.id] } } })).toBe(0);
});

// Parsing and planning the batch statement (two CTEs, 25 array parameters) once per connection, not
// once per batch, took about a third of PostgreSQL's CPU a token off (issuance-writer.ts).
(usingPostgres ? test : test.skip)('on PostgreSQL each connection prepares the batch statement once and then only runs it', async () => {
  const { client } = await freshGrantParties(server);
  const single = new PostgresIssuanceStore((server.config.database as { url: string }).url, 1);
  try {
    for (let i = 0; i < 8; i++) expect(await single.write([clientIssuance(client), clientIssuance(client)])).toEqual([true, true]);
    await single.recordPolls([]);
    expect(await single.preparedStatements()).toEqual([
      { name: 'authgate_issue', executions: 8 },
      { name: 'authgate_polls', executions: 1 },
    ]);
  } finally {
    await single.close();
  }
});
