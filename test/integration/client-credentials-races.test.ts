// client_credentials issuance is group-committed (db/issuance-writer.ts): many requests' token rows
// share a transaction that checks the client inside its INSERT. Raced here against the two ways an
// administrator withdraws a client — "revoke all" and deactivation — with introspection (token-status
// cache on, the default) as the judge: a token whose row is revoked is never reported active, and
// after deactivation no request obtains a token.
import { setTimeout as sleep } from 'node:timers/promises';
import { sha256Hex } from '../../src/domain/crypto.js';
import { createClient } from '../helpers/clients.js';
import { createIntrospector, isActive, req, type Introspector } from '../helpers/grants.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const REPETITIONS = 15;
const RACERS = 24;

let server: TestServer;
let rs: Introspector;

beforeAll(async () => {
  server = await startTestServer();
  rs = await createIntrospector(server);
});

afterAll(() => server.close());

async function confidentialClient() {
  const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
  const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: svc.clientId } });
  const creds = { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! };
  return { row, issue: () => postForm(`${server.url}/oauth/token`, creds) };
}

test(`"revoke all" racing ${RACERS} client_credentials requests: tokens answered before it are dead; introspection agrees with every stored row (x${REPETITIONS})`, async () => {
  for (let i = 0; i < REPETITIONS; i++) {
    const { row, issue } = await confidentialClient();
    const warm = String((await issue()).json.access_token);
    // Cached as active before the race: the revocation must reach the cache too.
    expect(await isActive(server, rs, warm)).toBe(true);
    const answered: string[] = [];
    const racers = Array.from({ length: RACERS }, async () => {
      await sleep(Math.random() * 15);
      const res = await issue();
      if (res.status === 200) answered.push(String(res.json.access_token));
    });
    await sleep(Math.random() * 15);
    await server.authgate.services.revocation.revokeAllForClient(row.id, { userId: null }, req);
    await Promise.all(racers);

    expect(await isActive(server, rs, warm)).toBe(false);
    const rows = await server.authgate.db.token.findMany({ where: { clientId: row.id } });
    expect(rows).toHaveLength(answered.length + 1);
    const statusByHash = new Map(rows.map((r) => [r.tokenHash, r.status]));
    for (const token of answered) {
      expect(await isActive(server, rs, token)).toBe(statusByHash.get(sha256Hex(token)) === 'active');
    }
  }
}, 120_000);

test(`deactivating a client racing ${RACERS} client_credentials requests: once it returns, no request obtains a token and none answered is active (x${REPETITIONS})`, async () => {
  for (let i = 0; i < REPETITIONS; i++) {
    const { row, issue } = await confidentialClient();
    const answered: string[] = [];
    let deactivated = false;
    const lateAnswers: number[] = [];
    const racers = Array.from({ length: RACERS }, async () => {
      await sleep(Math.random() * 15);
      const startedAfter = deactivated;
      const res = await issue();
      if (res.status === 200) answered.push(String(res.json.access_token));
      if (startedAfter) lateAnswers.push(res.status);
    });
    await sleep(Math.random() * 15);
    await server.authgate.services.clientAdmin.update(row.id, { active: false }, { userId: null }, req);
    deactivated = true;
    await Promise.all(racers);

    // Requests sent after the deactivation returned are refused at client authentication.
    expect(lateAnswers.filter((status) => status === 200)).toEqual([]);
    for (const token of answered) expect(await isActive(server, rs, token)).toBe(false);
  }
}, 120_000);

test('a client found inactive by the insert itself (its cached copy still active, as on an instance its invalidation has not reached yet) gets the answer it would get at authentication: 401 invalid_client, and no token', async () => {
  const { row, issue } = await confidentialClient();
  expect((await issue()).status).toBe(200);
  // Deactivated behind the services' back: the client cache keeps the active copy it just read.
  await server.authgate.db.oAuthClient.update({ where: { id: row.id }, data: { active: false } });
  const refused = await issue();
  expect(refused.status).toBe(401);
  expect(refused.json.error).toBe('invalid_client');
  expect(refused.json.error_description).toBe('client authentication failed');
  expect(await server.authgate.db.token.count({ where: { clientId: row.id } })).toBe(1);
  // Audited as a refused authentication, with a reason that says where it was refused.
  const failures = () =>
    server.authgate.db.auditEvent.findMany({ where: { eventType: 'CLIENT_AUTHENTICATION_FAILURE', clientId: row.clientId }, orderBy: { createdAt: 'asc' } });
  expect((await failures()).map((e) => [e.severity, e.success, JSON.parse(e.details).reason])).toEqual([['WARNING', false, 'client_refused_at_issuance']]);
  // Once the cache learns of it, authentication refuses the same way.
  await server.authgate.caches.clientChanged({ id: row.id, clientId: row.clientId });
  const again = await issue();
  expect([again.status, again.json.error]).toEqual([refused.status, refused.json.error]);
  expect(await server.authgate.db.token.count({ where: { clientId: row.id } })).toBe(1);
  // A refused authentication's event is buffered; the refusal at issuance is written before the answer.
  await server.authgate.services.audit.flush();
  expect((await failures()).map((e) => JSON.parse(e.details).reason)).toEqual(['client_refused_at_issuance', 'unknown_or_inactive_client']);
});
