// The client, user and token caches on one instance: every service write that changes a cached row
// is seen by the very next read (the caches are on: a write made behind the services' back is not,
// which each group checks first, so these tests would fail without the invalidations), and a
// revocation racing validations leaves no validation succeeding once it has returned. On each cache
// backend: memory, and with TEST_REDIS_URL also redis and redis-aside.
import { randomUUID } from 'node:crypto';
import type { OAuthClient, User } from '../../src/db/client.js';
import { sha256Hex } from '../../src/domain/crypto.js';
import type { CacheType } from '../../src/ops/cache.js';
import { generateClientSecret } from '../../src/services/clients.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createIntrospector, exchangeCode, freshGrantParties, isActive, issueCode, refresh, req, tokensFromCode, type Introspector, type Tokens } from '../helpers/grants.js';
import { gql } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const TYPES: CacheType[] = process.env.TEST_REDIS_URL ? ['memory', 'redis', 'redis-aside'] : ['memory'];

describe.each(TYPES)('%s caches', (type) => {
  let server: TestServer;
  let rs: Introspector;
  let admin: { userId: string; username: string; isAdmin: boolean };

  beforeAll(async () => {
    server = await startTestServer({
      TOKEN_CACHE_ENABLED: 'true',
      CLIENT_CACHE_TYPE: type,
      USER_CACHE_TYPE: type,
      TOKEN_CACHE_TYPE: type,
      ENABLE_TOKEN_ROTATION: 'true',
      REFRESH_TOKEN_ROTATION_GRACE: '0',
    });
    rs = await createIntrospector(server);
    const row = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    admin = { userId: row.id, username: row.username, isAdmin: true };
  }, 30_000);
  afterAll(() => server.close());

  const services = () => server.authgate.services;
  const db = () => server.authgate.db;

  async function grant(): Promise<{ user: User; client: OAuthClient; tokens: Tokens }> {
    const { user, client } = await freshGrantParties(server);
    return { user, client, tokens: await tokensFromCode(server, user, client) };
  }

  const tokenRow = (value: string) => db().token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(value) } });
  const authorizationOf = (user: User, client: OAuthClient) => db().userAuthorization.findFirstOrThrow({ where: { userId: user.id, clientId: client.id } });

  describe('token status', () => {
    test('the cache is on: a status written behind the services’ back is not seen', async () => {
      const { tokens } = await grant();
      expect(await isActive(server, rs, tokens.access_token)).toBe(true);
      await db().token.update({ where: { tokenHash: sha256Hex(tokens.access_token) }, data: { status: 'revoked' } });
      expect(await isActive(server, rs, tokens.access_token)).toBe(true);
      await server.authgate.caches.tokensChanged();
      expect(await isActive(server, rs, tokens.access_token)).toBe(false);
    });

    // Every write path that ends an access token, each seen by the next introspection.
    const endings: [string, (g: { user: User; client: OAuthClient; tokens: Tokens }) => Promise<unknown>][] = [
      ['RFC 7009 revocation of the access token', ({ tokens }) => services().revocation.revokeToken(tokens.access_token, null, undefined, req)],
      ['RFC 7009 revocation of the refresh token (its family)', ({ tokens }) => services().revocation.revokeToken(tokens.refresh_token, null, undefined, req)],
      ['family revocation', async ({ tokens }) => services().revocation.revokeFamily((await tokenRow(tokens.access_token)).familyId, admin, req)],
      ['family revocation from token lineage', async ({ tokens }) => services().tokenAdmin.revokeFamilyOf((await tokenRow(tokens.access_token)).id, admin, req)],
      ['administrator revokes the token', async ({ tokens }) => services().tokenAdmin.revoke((await tokenRow(tokens.access_token)).id, admin, req)],
      ['administrator puts the token on hold', async ({ tokens }) => services().tokenAdmin.disable((await tokenRow(tokens.access_token)).id, admin, req)],
      ['user withdraws consent', async ({ user, client }) => services().revocation.revokeUserAuthorization(user.id, (await authorizationOf(user, client)).id, req)],
      ['administrator withdraws consent', async ({ user, client }) => services().account.revokeAuthorizationAsAdmin((await authorizationOf(user, client)).id, admin, req)],
      ['administrator revokes all of a client', ({ client }) => services().revocation.revokeAllForClient(client.id, admin, req)],
      ['administrator revokes all of a user', ({ user }) => services().revocation.revokeAllForUser(user.id, admin, req)],
      ['user signs out everywhere', ({ user }) => services().revocation.revokeOwnTokens(user.id, undefined, { userId: user.id }, req)],
      ['user signs out of one app', ({ user, client }) => services().revocation.revokeOwnTokens(user.id, client.id, { userId: user.id }, req)],
      ['administrator disables the user', ({ user }) => services().userAdmin.disable(user.id, admin, req)],
      ['administrator deletes the user', ({ user }) => services().userAdmin.delete(user.id, admin, req)],
      ['administrator deactivates the client', ({ client }) => services().clientAdmin.update(client.id, { active: false }, admin, req)],
      ['administrator deletes the client', ({ client }) => services().clientAdmin.delete(client.id, admin, req)],
      [
        'a rotated refresh token presented again (reuse revokes the family)',
        async ({ client, tokens }) => {
          expect((await refresh(server, client, tokens.refresh_token)).status).toBe(200);
          expect((await refresh(server, client, tokens.refresh_token)).json.error).toBe('invalid_grant');
        },
      ],
    ];

    test.each(endings)('%s', async (_name, end) => {
      const g = await grant();
      expect(await isActive(server, rs, g.tokens.access_token)).toBe(true);
      expect(await isActive(server, rs, g.tokens.access_token)).toBe(true); // now answered from the cache
      await end(g);
      expect(await isActive(server, rs, g.tokens.access_token)).toBe(false);
    });

    test('an authorization code replayed: what it issued ends', async () => {
      const { user, client } = await freshGrantParties(server);
      const code = await issueCode(server, user, client);
      const first = await exchangeCode(server, client, code);
      const access = String(first.json.access_token);
      expect(await isActive(server, rs, access)).toBe(true);
      expect(await isActive(server, rs, access)).toBe(true);
      expect((await exchangeCode(server, client, code)).json.error).toBe('invalid_grant');
      expect(await isActive(server, rs, access)).toBe(false);
    });

    test('a hold lifted: the token works again at once', async () => {
      const { tokens } = await grant();
      const row = await tokenRow(tokens.access_token);
      await services().tokenAdmin.disable(row.id, admin, req);
      expect(await isActive(server, rs, tokens.access_token)).toBe(false);
      expect(await isActive(server, rs, tokens.access_token)).toBe(false); // the held status is cached too
      await services().tokenAdmin.enable(row.id, admin, req);
      expect(await isActive(server, rs, tokens.access_token)).toBe(true);
    });
  });

  describe('clients', () => {
    async function confidentialClient(approvalStatus: 'approved' | 'pending' = 'approved') {
      const { secret, hash } = generateClientSecret();
      const row = await db().oAuthClient.create({
        data: { clientId: `c-${randomUUID()}`, name: 'cached client', clientType: 'confidential', clientSecretHash: hash, allowedScopes: 'read', approvalStatus },
      });
      return { row, secret };
    }
    // Client authentication, answered from the client cache: the introspection endpoint's caller.
    const authenticates = async (clientId: string, secret: string) => {
      const res = await postForm(`${server.url}/oauth/introspect`, { token: 'x', client_id: clientId, client_secret: secret });
      if (res.status !== 200 && res.status !== 401) throw new Error(`introspection answered ${res.status}`);
      return res.status === 200;
    };

    test('the cache is on: a client written behind the services’ back is not seen', async () => {
      const { row, secret } = await confidentialClient();
      expect(await authenticates(row.clientId, secret)).toBe(true);
      await db().oAuthClient.update({ where: { id: row.id }, data: { active: false } });
      expect(await authenticates(row.clientId, secret)).toBe(true);
      await server.authgate.caches.clientChanged(row);
      expect(await authenticates(row.clientId, secret)).toBe(false);
    });

    const refusals: [string, (row: OAuthClient) => Promise<unknown>][] = [
      ['deactivated', (row) => services().clientAdmin.update(row.id, { active: false }, admin, req)],
      ['deleted', (row) => services().clientAdmin.delete(row.id, admin, req)],
      ['secret rotated (the old secret)', (row) => services().clientAdmin.rotateSecret(row.id, admin, req)],
      ['turned public (its secret dropped)', (row) => services().clientAdmin.update(row.id, { clientType: 'public' }, admin, req)],
    ];

    test.each(refusals)('%s: refused at the next request', async (_name, change) => {
      const { row, secret } = await confidentialClient();
      expect(await authenticates(row.clientId, secret)).toBe(true);
      expect(await authenticates(row.clientId, secret)).toBe(true);
      await change(row);
      expect(await authenticates(row.clientId, secret)).toBe(false);
    });

    test('a rotated secret works at once', async () => {
      const { row, secret } = await confidentialClient();
      expect(await authenticates(row.clientId, secret)).toBe(true);
      const rotated = await services().clientAdmin.rotateSecret(row.id, admin, req);
      expect(await authenticates(row.clientId, rotated.clientSecret!)).toBe(true);
    });

    const approvals: [string, (row: OAuthClient) => Promise<unknown>][] = [
      ['approved in the admin pages', (row) => services().clientAdmin.approve(row.id, admin, req)],
      ['approved through registration review', async (row) => services().registration.approveClient(row.clientId, await db().user.findUniqueOrThrow({ where: { id: admin.userId } }), req)],
    ];

    test.each(approvals)('a pending client %s: accepted at the next request', async (_name, approve) => {
      const { row, secret } = await confidentialClient('pending');
      expect(await authenticates(row.clientId, secret)).toBe(false);
      expect(await authenticates(row.clientId, secret)).toBe(false);
      await approve(row);
      expect(await authenticates(row.clientId, secret)).toBe(true);
    });

    test('a client-credentials token of a deactivated client is inactive at once', async () => {
      const { row, secret } = await confidentialClient();
      await db().oAuthClient.update({ where: { id: row.id }, data: { enableClientCredentials: true } });
      await server.authgate.caches.clientChanged(row);
      const issued = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', client_id: row.clientId, client_secret: secret, scope: 'read' });
      const token = String(issued.json.access_token);
      expect(await isActive(server, rs, token)).toBe(true);
      await services().clientAdmin.update(row.id, { active: false }, admin, req);
      expect(await isActive(server, rs, token)).toBe(false);
    });
  });

  describe('users', () => {
    const VIEWER = '{ viewer { username role } }';
    async function userWithToken() {
      const username = `u-${randomUUID().slice(0, 8)}`;
      const user = await db().user.create({ data: { username, passwordHash: await hashPassword('user-password-1') } });
      const { client } = await freshGrantParties(server);
      const tokens = await tokensFromCode(server, user, client);
      return { user, token: tokens.access_token };
    }
    const viewer = async (token: string) => (await gql(server, VIEWER, undefined, { token })).data?.viewer as { username: string; role: string } | null | undefined;

    test('the cache is on: a user written behind the services’ back is not seen', async () => {
      const { user, token } = await userWithToken();
      expect((await viewer(token))?.username).toBe(user.username);
      await db().user.update({ where: { id: user.id }, data: { username: `${user.username}-x` } });
      expect((await viewer(token))?.username).toBe(user.username);
      await server.authgate.caches.userChanged(user.id);
      expect((await viewer(token))?.username).toBe(`${user.username}-x`);
    });

    test('renamed by an administrator: seen at the next request', async () => {
      const { user, token } = await userWithToken();
      expect((await viewer(token))?.username).toBe(user.username);
      await services().userAdmin.update(user.id, { username: `${user.username}-renamed` }, admin, req);
      expect((await viewer(token))?.username).toBe(`${user.username}-renamed`);
    });

    test('role changed: seen at the next request', async () => {
      const { user, token } = await userWithToken();
      expect((await viewer(token))?.role).toBe('USER');
      await services().userAdmin.setRole(user.id, 'admin', admin, req);
      expect((await viewer(token))?.role).toBe('ADMIN');
      await services().userAdmin.setRole(user.id, 'user', admin, req);
      expect((await viewer(token))?.role).toBe('USER');
    });

    test('disabled (tokens and codes withdrawn, sessions left to the user check): the session ends at the next request', async () => {
      const username = `s-${randomUUID().slice(0, 8)}`;
      const user = await db().user.create({ data: { username, passwordHash: await hashPassword('user-password-1') } });
      const browser = new ScriptedBrowser(server.url);
      expect((await browser.login(username, 'user-password-1')).status).toBe(302);
      expect((await browser.get('/device')).status).toBe(200);
      expect((await browser.get('/device')).status).toBe(200);
      await services().revocation.revokeAllForUser(user.id, admin, req, { disable: true });
      const after = await browser.get('/device');
      expect(after.status).toBe(302);
      expect(after.location).toMatch(/^\/login/);
    });
  });

  describe('revocation racing validations (token cache on)', () => {
    const REPETITIONS = 5;
    const revocations: [string, (g: { user: User; client: OAuthClient; tokens: Tokens }) => Promise<unknown>][] = [
      ['RFC 7009 revocation', ({ tokens }) => services().revocation.revokeToken(tokens.access_token, null, undefined, req)],
      ['user disabled', ({ user }) => services().userAdmin.disable(user.id, admin, req)],
      ['client deactivated', ({ client }) => services().clientAdmin.update(client.id, { active: false }, admin, req)],
    ];

    test.each(revocations)(
      `%s: once it has returned, no validation on this instance succeeds (x${REPETITIONS})`,
      async (_name, revoke) => {
        for (let rep = 0; rep < REPETITIONS; rep++) {
          const g = await grant();
          const validate = () => services().tokens.validateAccessToken(g.tokens.access_token).then(() => true, () => false);
          let revoked = false;
          let stop = false;
          const seen: { startedAfterRevocation: boolean; ok: boolean }[] = [];
          const hammer = async () => {
            while (!stop) {
              const startedAfterRevocation = revoked;
              seen.push({ startedAfterRevocation, ok: await validate() });
              await new Promise((resolve) => setImmediate(resolve));
            }
          };
          const hammers = Array.from({ length: 6 }, hammer);
          // Validations succeed (from the cache) while the revocation starts.
          while (!seen.some((s) => s.ok)) await new Promise((resolve) => setTimeout(resolve, 2));
          await revoke(g);
          revoked = true;
          await new Promise((resolve) => setTimeout(resolve, 30));
          stop = true;
          await Promise.all(hammers);
          expect(seen.filter((s) => !s.startedAfterRevocation && s.ok).length).toBeGreaterThan(0);
          expect(seen.filter((s) => s.startedAfterRevocation).length).toBeGreaterThan(0);
          expect(seen.filter((s) => s.startedAfterRevocation && s.ok)).toEqual([]);
        }
      },
      60_000,
    );
  });
});
