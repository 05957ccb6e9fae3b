// Refresh rotation grace window (REFRESH_TOKEN_ROTATION_GRACE): replaying the just-rotated token within
// the window returns the same successor; after it, the replay is reuse and the family is revoked.
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex } from '../../src/domain/crypto.js';
import { runHousekeeping } from '../../src/ops/housekeeping.js';
import { createIntrospector, freshGrantParties, isActive, refresh, tokensFromCode, type Introspector, type Tokens } from '../helpers/grants.js';
import { startTestServer, usingPostgres, type TestServer } from '../helpers/server.js';

describe('refresh rotation grace window (1s)', () => {
  let server: TestServer;
  let rs: Introspector;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true', REFRESH_TOKEN_ROTATION_GRACE: '1s' });
    rs = await createIntrospector(server);
  });
  afterAll(() => server.close());

  test('a replay within the window returns the same successor; the family stays alive', async () => {
    const { user, client } = await freshGrantParties(server);
    const start = await tokensFromCode(server, user, client);
    const first = await refresh(server, client, start.refresh_token);
    expect(first.status).toBe(200);
    const replay = await refresh(server, client, start.refresh_token);
    expect(replay.status).toBe(200);
    expect(replay.json.refresh_token).toBe(first.json.refresh_token);
    expect(replay.json.access_token).toBe(first.json.access_token);
    expect(replay.json.expires_in).toBeLessThanOrEqual(first.json.expires_in as number);
    expect(await isActive(server, rs, String(first.json.refresh_token))).toBe(true);
    expect(await isActive(server, rs, String(first.json.access_token))).toBe(true);
    // The old token itself stays retired.
    expect(await isActive(server, rs, start.refresh_token)).toBe(false);

    const db = server.authgate.db;
    const old = await db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(start.refresh_token) } });
    // Only a sealed form is stored: no successor token value is readable in the database.
    expect(old.successorSealed).toBeTruthy();
    expect(old.successorSealed).not.toContain(String(first.json.refresh_token));
    expect(Buffer.from(old.successorSealed!, 'base64url').toString('latin1')).not.toContain(String(first.json.refresh_token));
    await server.authgate.services.audit.flush();
    const event = await db.auditEvent.findFirstOrThrow({ where: { eventType: 'REFRESH_TOKEN_GRACE_REPLAY', subjectId: old.id } });
    expect(event.severity).toBe('INFO');
    expect(await db.auditEvent.count({ where: { eventType: 'REFRESH_TOKEN_REUSE', subjectId: old.id } })).toBe(0);
  });

  test('concurrent retries of one refresh within the window all get the same successor (x10)', async () => {
    const { user, client } = await freshGrantParties(server);
    for (let rep = 0; rep < 10; rep++) {
      const start = await tokensFromCode(server, user, client);
      const results = await Promise.all(Array.from({ length: 10 }, () => refresh(server, client, start.refresh_token)));
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(new Set(results.map((r) => r.json.refresh_token)).size).toBe(1);
      expect(new Set(results.map((r) => r.json.access_token)).size).toBe(1);
      expect(await isActive(server, rs, String(results[0]!.json.refresh_token))).toBe(true);
    }
  });

  test('a retry presented within the window is a retry even when the server answers it after the window', async () => {
    // A slow server (here: another transaction holding the client row, or SQLite's one connection) must
    // not turn a client's timely retry into reuse and revoke its family: the window is judged by when the
    // replay was presented, not by when the server got round to it.
    const { user, client } = await freshGrantParties(server);
    const start = await tokensFromCode(server, user, client);
    const first = await refresh(server, client, start.refresh_token);
    expect(first.status).toBe(200);
    const db = server.authgate.db;
    let held!: () => void;
    const holding = new Promise<void>((resolve) => (held = resolve));
    const blocker = db.$transaction(
      async (tx) => {
        if (usingPostgres) await tx.$queryRaw`SELECT "id" FROM "oauth_clients" WHERE "id" = ${client.id} FOR UPDATE`;
        else await tx.$executeRaw`UPDATE "signing_keys" SET "kid" = "kid" WHERE 0`;
        held();
        await sleep(1500);
      },
      { timeout: 10_000 },
    );
    await holding;
    const replay = await refresh(server, client, start.refresh_token);
    await blocker;
    expect(replay.status).toBe(200);
    expect(replay.json.refresh_token).toBe(first.json.refresh_token);
    expect(replay.json.expires_in).toBeLessThan(first.json.expires_in as number);
    expect(await isActive(server, rs, String(first.json.refresh_token))).toBe(true);
  });

  test('after the window, a replay is reuse: the whole family is revoked, the successor included', async () => {
    const { user, client } = await freshGrantParties(server);
    const start = await tokensFromCode(server, user, client);
    const next = (await refresh(server, client, start.refresh_token)).json as unknown as Tokens;
    await sleep(1300);
    // Housekeeping clears the sealed successor once its window is over.
    await runHousekeeping(server.authgate.db);
    const old = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(start.refresh_token) } });
    expect(old.successorSealed).toBeNull();

    const replay = await refresh(server, client, start.refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.json.error).toBe('invalid_grant');
    for (const t of [next.access_token, next.refresh_token, start.access_token]) expect(await isActive(server, rs, t)).toBe(false);
    const reuse = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'REFRESH_TOKEN_REUSE', subjectId: old.id } });
    expect(reuse.severity).toBe('WARNING');
  });

  test('within the window, a replay after the successor was itself used is reuse, not a retry', async () => {
    const { user, client } = await freshGrantParties(server);
    const start = await tokensFromCode(server, user, client);
    const second = (await refresh(server, client, start.refresh_token)).json as unknown as Tokens;
    const third = (await refresh(server, client, second.refresh_token)).json as unknown as Tokens;
    const replay = await refresh(server, client, start.refresh_token);
    expect(replay.status).toBe(400);
    expect(await isActive(server, rs, third.refresh_token)).toBe(false);
    expect(await isActive(server, rs, third.access_token)).toBe(false);
  });
});

test('REFRESH_TOKEN_ROTATION_GRACE=0 is strict: an immediate replay revokes the family', async () => {
  const server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true', REFRESH_TOKEN_ROTATION_GRACE: '0' });
  try {
    const rs = await createIntrospector(server);
    const { user, client } = await freshGrantParties(server);
    const start = await tokensFromCode(server, user, client);
    const next = (await refresh(server, client, start.refresh_token)).json as unknown as Tokens;
    expect((await refresh(server, client, start.refresh_token)).status).toBe(400);
    expect(await isActive(server, rs, next.refresh_token)).toBe(false);
    const old = await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(start.refresh_token) } });
    expect(old.successorSealed).toBeNull();
  } finally {
    await server.close();
  }
});
