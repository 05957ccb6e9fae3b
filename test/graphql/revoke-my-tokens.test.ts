// revokeMyTokens: a user ends their own tokens (all, or one client's) in one call. Another user's
// tokens are untouched, the revoked ones are inactive at /oauth/introspect and cannot be refreshed,
// the consents stay, and the change is audited with the user as the actor.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { hashPassword } from '../helpers/passwords.js';
import { createClient } from '../helpers/clients.js';
import { createIntrospector, isActive, type Introspector } from '../helpers/grants.js';
import { codes, deviceFlowToken, gql, signedInBrowser, type DeviceTokens } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { MyAccountDocument, RevokeMyTokensDocument } from './generated/graphql.js';

const PASSWORD = 'revoke-mine-password-1';

describe('revokeMyTokens', () => {
  let server: TestServer;
  let rs: Introspector;
  let otherClientId: string;
  let otherClientRowId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const db = server.authgate.db;
    await db.user.create({ data: { username: 'alice', passwordHash: await hashPassword(PASSWORD) } });
    await db.user.create({ data: { username: 'bob', passwordHash: await hashPassword(PASSWORD) } });
    rs = await createIntrospector(server);
    otherClientId = (await createClient(server, { type: 'public', device: true, name: 'TV app' })).clientId;
    otherClientRowId = (await db.oAuthClient.findUniqueOrThrow({ where: { clientId: otherClientId } })).id;
  }, 30_000);
  afterAll(() => server.close());

  const token = (username: string, clientId?: string) => deviceFlowToken(server, { scope: 'read offline_access', username, password: PASSWORD, clientId });
  const allActive = async (tokens: DeviceTokens[]) => Promise.all(tokens.flatMap((t) => [isActive(server, rs, t.access_token), isActive(server, rs, t.refresh_token!)]));

  test('anonymous callers are refused', async () => {
    expect(codes(await gql(server, RevokeMyTokensDocument, {}))).toEqual(['UNAUTHENTICATED']);
  });

  test('one client’s tokens, then all of them: only the viewer’s, inactive at introspection, consents kept, audited', async () => {
    const cli = [await token('alice'), await token('alice')];
    const tv = await token('alice', otherClientId);
    const bobs = [await token('bob'), await token('bob', otherClientId)];
    const browser = await signedInBrowser(server, 'alice', PASSWORD);
    const asAlice = { browser, headers: { origin: server.url } };
    const before = (await gql(server, MyAccountDocument, {}, { browser })).data!.viewer!;
    expect(before.tokens.totalCount).toBe(6);
    expect(before.authorizations.totalCount).toBe(2);

    const one = await gql(server, RevokeMyTokensDocument, { clientId: encodeGlobalID('Client', otherClientRowId) }, asAlice);
    expect(one.errors).toBeUndefined();
    expect(one.data!.revokeMyTokens.tokensRevoked).toBe(2);
    expect(await allActive([tv])).toEqual([false, false]);
    expect(await allActive(cli)).toEqual([true, true, true, true]);
    expect(await allActive(bobs)).toEqual([true, true, true, true]);

    const all = await gql(server, RevokeMyTokensDocument, {}, asAlice);
    expect(all.errors).toBeUndefined();
    expect(all.data!.revokeMyTokens.tokensRevoked).toBe(4);
    expect(await allActive(cli)).toEqual([false, false, false, false]);
    // Bob's tokens, for both clients, still work.
    expect(await allActive(bobs)).toEqual([true, true, true, true]);
    // Revoked refresh tokens cannot be exchanged any more.
    const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: cli[0]!.refresh_token!, client_id: server.cliClientId });
    expect(refreshed.status).toBe(400);
    expect(refreshed.json.error).toBe('invalid_grant');

    const after = (await gql(server, MyAccountDocument, {}, { browser })).data!.viewer!;
    expect(after.tokens.totalCount).toBe(0);
    // Consents are not withdrawn: the apps stay authorized (they must sign in again, not ask again).
    expect(after.authorizations.totalCount).toBe(2);
    // Nothing left: a second call revokes nothing and is no error.
    expect((await gql(server, RevokeMyTokensDocument, {}, asAlice)).data!.revokeMyTokens.tokensRevoked).toBe(0);

    const events = await server.authgate.db.auditEvent.findMany({ where: { eventType: 'USER_TOKENS_REVOKED' }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => [e.actorUsername, e.clientId])).toEqual([
      ['alice', otherClientId],
      ['alice', null],
      ['alice', null],
    ]);
    expect(JSON.parse(events[0]!.details!)).toMatchObject({ reason: 'owner_request', tokens_revoked: 2 });
  }, 60_000);

  test('an unknown client is NOT_FOUND and a malformed id BAD_USER_INPUT; nothing is revoked', async () => {
    const mine = await token('bob');
    const browser = await signedInBrowser(server, 'bob', PASSWORD);
    const opts = { browser, headers: { origin: server.url } };
    expect(codes(await gql(server, RevokeMyTokensDocument, { clientId: encodeGlobalID('Client', 'no-such-client') }, opts))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(server, RevokeMyTokensDocument, { clientId: 'not a global id' }, opts))).toEqual(['BAD_USER_INPUT']);
    expect(await isActive(server, rs, mine.access_token)).toBe(true);
  }, 30_000);
});
