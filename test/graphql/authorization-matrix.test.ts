// Who may call /graphql, one test per cell: each kind of caller against a representative admin query
// (users), an admin mutation (createUser) and an own-data query (viewer). Every credential is obtained
// through the real flows: device flow for user tokens, client credentials for clients, POST /login
// (with the form's CSRF token) for browser sessions.
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../helpers/passwords.js';
import { createClient } from '../helpers/clients.js';
import { clientCredentialsToken, codes, deviceFlowToken, gql, signedInBrowser, type CallOptions, type GraphQLResponse } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CreateUserDocument, NodeDocument, UserDocument, UsersDocument, ViewerDocument } from './generated/graphql.js';

let server: TestServer;
const callers: Record<string, CallOptions> = {};
let aliceId = '';
let adminId = '';
const SAME_ORIGIN = () => ({ origin: server.url });

beforeAll(async () => {
  server = await startTestServer();
  const db = server.authgate.db;
  const alice = await db.user.create({ data: { username: 'alice', passwordHash: await hashPassword('alice-password'), fullName: 'Alice' } });
  aliceId = alice.id;
  adminId = (await db.user.findUniqueOrThrow({ where: { username: 'admin' } })).id;

  callers.anonymous = {};
  // A normal user, even with the admin scope in the token, has no admin rights.
  callers.userBearer = { token: (await deviceFlowToken(server, { scope: 'read admin', username: 'alice', password: 'alice-password' })).access_token };
  callers.adminBearerWithoutAdminScope = { token: (await deviceFlowToken(server, { scope: 'read' })).access_token };
  callers.adminBearer = { token: (await deviceFlowToken(server, { scope: 'admin' })).access_token };

  const service = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'admin read' });
  await server.authgate.caches.clientChanged(await db.oAuthClient.update({ where: { clientId: service.clientId }, data: { isServiceAccount: true } }));
  callers.serviceAccount = { token: (await clientCredentialsToken(server, service.clientId, service.clientSecret!, 'admin')).token };
  // The same client, not marked as a service account: a valid token carrying `admin`, yet no rights.
  const plain = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'admin read' });
  callers.clientNotServiceAccount = { token: (await clientCredentialsToken(server, plain.clientId, plain.clientSecret!, 'admin')).token };

  const revoked = await deviceFlowToken(server, { scope: 'admin' });
  const revoke = await postForm(`${server.url}/oauth/revoke`, { client_id: server.cliClientId, token: revoked.access_token });
  expect(revoke.status).toBe(200);
  callers.revokedToken = { token: revoked.access_token };
  callers.refreshTokenAsBearer = { token: (await deviceFlowToken(server, { scope: 'admin offline_access' })).refresh_token };
  const expired = await deviceFlowToken(server, { scope: 'admin' });
  const expiredRow = (await db.token.findMany({ where: { category: 'access' }, orderBy: { createdAt: 'desc' }, take: 1 }))[0]!;
  await db.token.update({ where: { id: expiredRow.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
  callers.expiredToken = { token: expired.access_token };
  const bob = await db.user.create({ data: { username: 'bob', passwordHash: await hashPassword('bob-password'), role: 'admin' } });
  const bobToken = await deviceFlowToken(server, { scope: 'admin', username: 'bob', password: 'bob-password' });
  await db.user.update({ where: { id: bob.id }, data: { active: false } });
  await server.authgate.caches.userChanged(bob.id); // written behind the services' back
  callers.disabledUserToken = { token: bobToken.access_token };

  const adminBrowser = await signedInBrowser(server);
  callers.adminCookieSameOrigin = { browser: adminBrowser, headers: SAME_ORIGIN() };
  callers.adminCookieNoOrigin = { browser: adminBrowser };
  callers.adminCookieForeignOrigin = { browser: adminBrowser, headers: { origin: 'https://evil.example' } };
  callers.adminCookieForeignReferer = { browser: adminBrowser, headers: { referer: 'https://evil.example/page' } };
  callers.userCookieSameOrigin = { browser: await signedInBrowser(server, 'alice', 'alice-password'), headers: SAME_ORIGIN() };
}, 60_000);
afterAll(() => server.close());

type Outcome = 'allowed' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 401;

const matrix: [string, Outcome, Outcome, Outcome][] = [
  // caller                        admin query        admin mutation     own data
  ['anonymous', 'UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED'],
  ['userBearer', 'FORBIDDEN', 'FORBIDDEN', 'allowed'],
  ['adminBearerWithoutAdminScope', 'FORBIDDEN', 'FORBIDDEN', 'allowed'],
  ['adminBearer', 'allowed', 'allowed', 'allowed'],
  ['serviceAccount', 'allowed', 'allowed', 'allowed'],
  ['clientNotServiceAccount', 'FORBIDDEN', 'FORBIDDEN', 'allowed'],
  ['revokedToken', 401, 401, 401],
  ['refreshTokenAsBearer', 401, 401, 401],
  ['expiredToken', 401, 401, 401],
  ['disabledUserToken', 401, 401, 401],
  ['adminCookieSameOrigin', 'allowed', 'allowed', 'allowed'],
  // No Origin at all: browsers send one on every cross-site POST, so its absence is not a cross-site page.
  ['adminCookieNoOrigin', 'allowed', 'allowed', 'allowed'],
  ['adminCookieForeignOrigin', 'allowed', 'FORBIDDEN', 'allowed'],
  ['adminCookieForeignReferer', 'allowed', 'FORBIDDEN', 'allowed'],
  ['userCookieSameOrigin', 'FORBIDDEN', 'FORBIDDEN', 'allowed'],
];

async function expectOutcome(res: GraphQLResponse<object>, outcome: Outcome, field: string): Promise<void> {
  const data = res.data as Record<string, unknown> | null | undefined;
  if (outcome === 401) {
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    expect(codes(res)).toEqual(['UNAUTHENTICATED']);
    return;
  }
  expect(res.status).toBe(200);
  if (outcome === 'allowed') {
    expect(res.errors).toBeUndefined();
    expect(data?.[field]).toBeTruthy();
  } else {
    expect(codes(res)).toEqual([outcome]);
    expect(data?.[field] ?? null).toBeNull();
  }
}

describe.each(matrix)('%s', (caller, adminQuery, adminMutation, ownData) => {
  test(`admin query (users): ${adminQuery}`, async () => {
    await expectOutcome(await gql(server, UsersDocument, { first: 5 }, callers[caller]), adminQuery, 'users');
  });

  test(`admin mutation (createUser): ${adminMutation}`, async () => {
    const username = `u-${randomUUID().slice(0, 8)}`;
    await expectOutcome(await gql(server, CreateUserDocument, { input: { username } }, callers[caller]), adminMutation, 'createUser');
    // Refused means nothing was written.
    expect(await server.authgate.db.user.count({ where: { username } })).toBe(adminMutation === 'allowed' ? 1 : 0);
  });

  test(`own data (viewer): ${ownData}`, async () => {
    await expectOutcome(await gql(server, ViewerDocument, {}, callers[caller]), ownData, 'viewer');
  });
});

describe('own data only', () => {
  const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

  test("a normal user reads their own node and user(id); another user's is NOT_FOUND, exactly like an unknown id", async () => {
    const own = await gql(server, NodeDocument, { id: globalId('User', aliceId) }, callers.userBearer);
    expect(own.errors).toBeUndefined();
    expect(own.data?.node).toMatchObject({ __typename: 'User', username: 'alice' });
    const ownUser = await gql(server, UserDocument, { id: globalId('User', aliceId) }, callers.userBearer);
    expect(ownUser.errors).toBeUndefined();
    expect(ownUser.data?.user?.username).toBe('alice');

    for (const id of [globalId('User', adminId), globalId('User', randomUUID())]) {
      const node = await gql(server, NodeDocument, { id }, callers.userBearer);
      expect(codes(node)).toEqual(['NOT_FOUND']);
      expect(node.data?.node ?? null).toBeNull();
      const user = await gql(server, UserDocument, { id }, callers.userBearer);
      expect(codes(user)).toEqual(['NOT_FOUND']);
    }
    // A client's node is not theirs either.
    const cli = await server.authgate.db.oAuthClient.findFirstOrThrow();
    expect(codes(await gql(server, NodeDocument, { id: globalId('Client', cli.id) }, callers.userBearer))).toEqual(['NOT_FOUND']);
  });

  test('an admin reads any node', async () => {
    const res = await gql(server, NodeDocument, { id: globalId('User', aliceId) }, callers.adminBearer);
    expect(res.data?.node).toMatchObject({ __typename: 'User', username: 'alice' });
  });

  test('the service account is its own viewer, with admin rights', async () => {
    const res = await gql(server, ViewerDocument, {}, callers.serviceAccount);
    expect(res.data?.viewer).toMatchObject({ kind: 'SERVICE_ACCOUNT', isAdmin: true, role: 'ADMIN', scopes: ['admin'] });
  });
});
