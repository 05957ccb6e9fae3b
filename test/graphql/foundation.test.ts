// /graphql is mounted and knows who is calling: an admin with a Bearer token from the device flow, and
// an admin signed in through the pages, both read the same typed `viewer` and `users` over HTTP.
import { UsersDocument, ViewerDocument } from './generated/graphql.js';
import { deviceFlowToken, gql, signedInBrowser } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

test('an admin Bearer token (device flow, scope admin) reads viewer and users', async () => {
  const { access_token } = await deviceFlowToken(server, { scope: 'admin' });
  const res = await gql(server, ViewerDocument, {}, { token: access_token });
  expect(res.status).toBe(200);
  expect(res.errors).toBeUndefined();
  const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
  expect(res.data?.viewer).toEqual({
    id: Buffer.from(`User:${admin.id}`).toString('base64'),
    kind: 'USER',
    username: 'admin',
    email: null,
    fullName: 'Administrator',
    role: 'ADMIN',
    isAdmin: true,
    scopes: ['admin'],
  });
  const users = await gql(server, UsersDocument, { first: 10 }, { token: access_token });
  expect(users.errors).toBeUndefined();
  expect(users.data?.users.totalCount).toBe(1);
  expect(users.data?.users.edges[0]?.node).toMatchObject({ username: 'admin', role: 'ADMIN', active: true, authSource: 'local', hasPassword: true });
  // The device flow just issued this admin an access and a refresh token.
  expect(users.data?.users.edges[0]?.node.activeTokenCount).toBe(2);
});

test('an admin signed in through /login reads viewer and users with the session cookie', async () => {
  const browser = await signedInBrowser(server);
  const res = await gql(server, ViewerDocument, {}, { browser });
  expect(res.errors).toBeUndefined();
  expect(res.data?.viewer).toMatchObject({ kind: 'USER', username: 'admin', role: 'ADMIN', isAdmin: true, scopes: null });
  const users = await gql(server, UsersDocument, { first: 10 }, { browser });
  expect(users.errors).toBeUndefined();
  expect(users.data?.users.edges.map((e) => e.node.username)).toEqual(['admin']);
  expect(users.data?.users.edges[0]?.node.lastLoginAt).toEqual(expect.any(String));
});
