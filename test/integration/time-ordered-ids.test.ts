// Token and audit event rows get time-ordered ids (UUID v7, domain/ids.ts) on every issuing path:
// client_credentials through the group commit, and code, refresh and their audit events through
// Prisma; a later row's id sorts after an earlier one's.
import { createClient } from '../helpers/clients.js';
import { freshGrantParties, refresh, tokensFromCode } from '../helpers/grants.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Every token row's id, jti and family are v7. */
function expectTimeOrdered(rows: { id: string; jti: string; familyId: string }[]): void {
  for (const row of rows) for (const id of [row.id, row.jti, row.familyId]) expect(id).toMatch(V7);
}
const ascending = (ids: string[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]!);
const jtiOf = (token: unknown) => (JSON.parse(Buffer.from(String(token).split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;

test('client_credentials tokens and their audit events: v7 ids, jti and family, in issuing order', async () => {
  const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
  const client = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: svc.clientId } });
  const jtis: string[] = [];
  for (let i = 0; i < 5; i++) {
    const res = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! });
    expect(res.status).toBe(200);
    jtis.push(jtiOf(res.json.access_token));
  }
  const rows = await server.authgate.db.token.findMany({ where: { clientId: client.id } });
  expect(rows).toHaveLength(5);
  expectTimeOrdered(rows);
  const byJti = new Map(rows.map((r) => [r.jti, r]));
  // In the order the tokens were answered: ids and jtis ascend.
  expect(ascending(jtis)).toBe(true);
  expect(ascending(jtis.map((jti) => byJti.get(jti)!.id))).toBe(true);

  await server.authgate.services.audit.flush();
  const events = await server.authgate.db.auditEvent.findMany({ where: { clientId: svc.clientId, eventType: 'ACCESS_TOKEN_ISSUED' } });
  expect(events).toHaveLength(5);
  for (const event of events) expect(event.id).toMatch(V7);
});

test('code exchange and refresh: access and refresh token rows and the audit events have v7 ids, the later ones sorting later', async () => {
  const { user, client } = await freshGrantParties(server);
  const first = await tokensFromCode(server, user, client);
  const refreshed = await refresh(server, client, first.refresh_token);
  expect(refreshed.status).toBe(200);
  const rows = await server.authgate.db.token.findMany({ where: { clientId: client.id } });
  // The code's refresh token and access token, then the refreshed access token (fixed refresh tokens by default).
  expect(rows).toHaveLength(3);
  expectTimeOrdered(rows);
  const byJti = (token: unknown) => rows.find((r) => r.jti === jtiOf(token))!;
  const refreshRow = rows.find((r) => r.category === 'refresh')!;
  const firstAccess = byJti(first.access_token);
  const secondAccess = byJti(refreshed.json.access_token);
  // Made in this order: the refresh row first (the access token names it as its parent).
  expect(firstAccess.parentId).toBe(refreshRow.id);
  expect(ascending([refreshRow.id, firstAccess.id, secondAccess.id])).toBe(true);
  expect(ascending([firstAccess.jti, secondAccess.jti])).toBe(true);

  await server.authgate.services.audit.flush();
  const events = await server.authgate.db.auditEvent.findMany({ where: { clientId: client.clientId } });
  expect(events.length).toBeGreaterThan(0);
  for (const event of events) expect(event.id).toMatch(V7);
});
