// Every issuance's audit event is written with its tokens, in the same transaction, so a token the
// server answered never lacks its event (the SIGKILL test proves it for client_credentials, which is
// group-committed; this proves it for the grants that go through the issuing transaction). The
// periodic audit flush is set to an hour: only the issuing write can have stored these events.
import { createHash } from 'node:crypto';
import { exchangeCode, freshGrantParties, issueCode, refresh, type Tokens } from '../helpers/grants.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ AUDIT_FLUSH_INTERVAL: '1h', AUDIT_BATCH_SIZE: '1000' });
});

afterAll(async () => {
  await server.close();
});

async function eventFor(accessToken: string, eventType: string) {
  const db = server.authgate.db;
  const row = await db.token.findUnique({ where: { tokenHash: createHash('sha256').update(accessToken).digest('hex') } });
  if (!row) return { token: null, events: 0 };
  return { token: row.id, events: await db.auditEvent.count({ where: { eventType, subjectId: row.id } }) };
}

test('authorization_code: ACCESS_TOKEN_ISSUED is stored by the time the token is answered', async () => {
  const { user, client } = await freshGrantParties(server);
  const res = await exchangeCode(server, client, await issueCode(server, user, client));
  expect(res.status).toBe(200);
  const stored = await eventFor((res.json as unknown as Tokens).access_token, 'ACCESS_TOKEN_ISSUED');
  expect(stored.token).not.toBeNull();
  expect(stored.events).toBe(1);
});

test('refresh_token: TOKEN_REFRESHED is stored by the time the token is answered', async () => {
  const { user, client } = await freshGrantParties(server);
  const first = await exchangeCode(server, client, await issueCode(server, user, client));
  const res = await refresh(server, client, (first.json as unknown as Tokens).refresh_token);
  expect(res.status).toBe(200);
  const stored = await eventFor((res.json as unknown as Tokens).access_token, 'TOKEN_REFRESHED');
  expect(stored.token).not.toBeNull();
  expect(stored.events).toBe(1);
});

test('a refused issuance writes no success event (the transaction decided nothing was issued)', async () => {
  const { user, client } = await freshGrantParties(server);
  const code = await issueCode(server, user, client);
  expect((await exchangeCode(server, client, code)).status).toBe(200);
  const before = await server.authgate.db.auditEvent.count({ where: { eventType: 'ACCESS_TOKEN_ISSUED', clientId: client.clientId } });
  expect((await exchangeCode(server, client, code)).status).toBe(400);
  const after = await server.authgate.db.auditEvent.count({ where: { eventType: 'ACCESS_TOKEN_ISSUED', clientId: client.clientId } });
  expect(after).toBe(before);
});
