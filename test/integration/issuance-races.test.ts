// Concurrent redemptions of one grant (issue 6): exactly one wins, and reuse detection revokes what the
// winner got even when the loser and the winner race; 20 racing requests, 20 repetitions each.
import Database from 'better-sqlite3';
import { writeTransaction } from '../../src/db/transactions.js';
import { sha256Hex } from '../../src/domain/crypto.js';
import {
  approvedDeviceCode,
  createIntrospector,
  exchangeCode,
  freshGrantParties,
  isActive,
  issueCode,
  pollDevice,
  refresh,
  tokensFromCode,
  type Introspector,
  type Tokens,
} from '../helpers/grants.js';
import { startTestServer, usingPostgres, type TestServer } from '../helpers/server.js';

const REPETITIONS = 20;
const RACERS = 20;

describe('racing redemptions (rotation on, grace 0 = strict)', () => {
  let server: TestServer;
  let rs: Introspector;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true', REFRESH_TOKEN_ROTATION_GRACE: '0' });
    rs = await createIntrospector(server);
  });
  afterAll(() => server.close());

  async function familyActiveCount(refreshToken: string): Promise<number> {
    const db = server.authgate.db;
    const row = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(refreshToken) } });
    return db.token.count({ where: { familyId: row.familyId, status: 'active' } });
  }

  test(`${RACERS} concurrent exchanges of one authorization code: one 200, then nothing of it is active (x${REPETITIONS})`, async () => {
    const { user, client } = await freshGrantParties(server);
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const code = await issueCode(server, user, client);
      const results = await Promise.all(Array.from({ length: RACERS }, () => exchangeCode(server, client, code)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200)) expect(loser.json.error).toBe('invalid_grant');
      const won = winners[0]!.json as unknown as Tokens;
      expect(await isActive(server, rs, won.access_token)).toBe(false);
      expect(await isActive(server, rs, won.refresh_token)).toBe(false);
      expect(await familyActiveCount(won.refresh_token)).toBe(0);
    }
  });

  test(`a replay racing the first exchange revokes every token of that exchange (x${REPETITIONS})`, async () => {
    const { user, client } = await freshGrantParties(server);
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const code = await issueCode(server, user, client);
      const [first, replay] = await Promise.all([exchangeCode(server, client, code), exchangeCode(server, client, code)]);
      const statuses = [first.status, replay.status].sort();
      expect(statuses).toEqual([200, 400]);
      const won = (first.status === 200 ? first : replay).json as unknown as Tokens;
      expect(await isActive(server, rs, won.access_token)).toBe(false);
      expect(await isActive(server, rs, won.refresh_token)).toBe(false);
      expect((await refresh(server, client, won.refresh_token)).status).toBe(400);
    }
    const db = server.authgate.db;
    expect(await db.auditEvent.count({ where: { eventType: 'AUTHORIZATION_CODE_REUSE', clientId: client.clientId } })).toBe(REPETITIONS);
  });

  test(`${RACERS} concurrent polls of one approved device code: exactly one 200 (x${REPETITIONS})`, async () => {
    const { user, client } = await freshGrantParties(server);
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const deviceCode = await approvedDeviceCode(server, user, client);
      const results = await Promise.all(Array.from({ length: RACERS }, () => pollDevice(server, client, deviceCode)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200)) expect(loser.status).toBe(400);
      // The one winner's tokens are good (a device code replay is not theft, just late).
      expect(await isActive(server, rs, String(winners[0]!.json.access_token))).toBe(true);
      expect(await server.authgate.db.token.count({ where: { userId: user.id, clientId: client.id, grantType: { contains: 'device_code' }, category: 'access' } })).toBe(rep + 1);
    }
  });

  test(`${RACERS} concurrent refreshes of one rotating refresh token: one 200, then nothing of the family is active (x${REPETITIONS})`, async () => {
    const { user, client } = await freshGrantParties(server);
    for (let rep = 0; rep < REPETITIONS; rep++) {
      const start = await tokensFromCode(server, user, client);
      const results = await Promise.all(Array.from({ length: RACERS }, () => refresh(server, client, start.refresh_token)));
      const winners = results.filter((r) => r.status === 200);
      expect(winners).toHaveLength(1);
      for (const loser of results.filter((r) => r.status !== 200)) expect(loser.json.error).toBe('invalid_grant');
      const won = winners[0]!.json as unknown as Tokens;
      for (const t of [won.access_token, won.refresh_token, start.access_token, start.refresh_token]) expect(await isActive(server, rs, t)).toBe(false);
      expect(await familyActiveCount(start.refresh_token)).toBe(0);
    }
    const reuse = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'REFRESH_TOKEN_REUSE', clientId: client.clientId } });
    expect(reuse.severity).toBe('WARNING');
  });

  (usingPostgres ? test.skip : test)('SQLite: an issuing transaction holds the write lock from its start, before it reads what it checks', async () => {
    const config = server.config.database;
    if (config.dialect !== 'sqlite') throw new Error('unreachable');
    const other = new Database(config.file, { timeout: 0 });
    try {
      let refusedInside = false;
      await writeTransaction(server.authgate.db, 'sqlite', async (tx) => {
        await tx.oAuthClient.findFirst();
        try {
          other.exec('BEGIN IMMEDIATE');
          other.exec('ROLLBACK');
        } catch (err) {
          refusedInside = (err as { code?: string }).code === 'SQLITE_BUSY';
        }
      });
      expect(refusedInside).toBe(true);
      // And once it has committed, another writer gets in.
      other.exec('BEGIN IMMEDIATE');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
  });

  (usingPostgres ? test.skip : test)('SQLite: a query outside a transaction neither sees its uncommitted rows nor is rolled back with it', async () => {
    const db = server.authgate.db;
    const name = `tx-probe-${Date.now()}`;
    let outsideRead: Promise<unknown> | undefined;
    let outsideWrite: Promise<unknown> | undefined;
    await expect(
      writeTransaction(db, 'sqlite', async (tx) => {
        await tx.user.create({ data: { username: name } });
        // Started (Prisma queries are lazy until then() is called) while the transaction is open, not
        // awaited inside it (that would wait for itself).
        outsideRead = db.user.findUnique({ where: { username: name } }).then((u) => u);
        outsideWrite = db.user.create({ data: { username: `${name}-outside` } }).then((u) => u);
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await outsideRead).toBeNull();
    await outsideWrite;
    expect(await db.user.findUnique({ where: { username: `${name}-outside` } })).not.toBeNull();
    expect(await db.user.findUnique({ where: { username: name } })).toBeNull();
  });
});
