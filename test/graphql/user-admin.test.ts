// Administering users through GraphQL over real HTTP: each mutation's rule, its audit event, and what
// it does to the user's tokens and sessions everywhere else (introspection, the pages).
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { clientCredentialsToken, codes, deviceFlowToken, gql, signedInBrowser, type CallOptions } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  CreateUserDocument,
  DeleteUserDocument,
  DisableUserDocument,
  EnableUserDocument,
  ResetUserPasswordDocument,
  SetUserRoleDocument,
  UnlinkConnectionDocument,
  UpdateUserDocument,
  ViewerDocument,
} from './generated/graphql.js';

let server: TestServer;
let admin: CallOptions;
let adminId = '';
let serviceAccount: CallOptions;
let introspect: (token: string) => Promise<Record<string, unknown>>;
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const db = () => server.authgate.db;

async function newUser(username: string, role: 'user' | 'admin' = 'user', password = `${username}-password`) {
  return db().user.create({ data: { username, role, passwordHash: await hashPassword(password) } });
}

async function canLogIn(username: string, password: string): Promise<boolean> {
  return (await new ScriptedBrowser(server.url).login(username, password)).status === 302;
}

beforeAll(async () => {
  server = await startTestServer();
  adminId = (await db().user.findUniqueOrThrow({ where: { username: 'admin' } })).id;
  admin = { token: (await deviceFlowToken(server, { scope: 'admin' })).access_token };
  const sa = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'admin' });
  await db().oAuthClient.update({ where: { clientId: sa.clientId }, data: { isServiceAccount: true } });
  serviceAccount = { token: (await clientCredentialsToken(server, sa.clientId, sa.clientSecret!, 'admin')).token };
  const rs = await createClient(server, { type: 'confidential', authCode: false });
  introspect = async (token) => {
    const auth = `Basic ${Buffer.from(`${rs.clientId}:${rs.clientSecret}`).toString('base64')}`;
    return (await postForm(`${server.url}/oauth/introspect`, { token }, { authorization: auth })).json;
  };
}, 30_000);
afterAll(() => server.close());

describe('createUser', () => {
  test('without a password: one is generated, returned once, stored only hashed, and works at /login', async () => {
    const res = await gql(server, CreateUserDocument, { input: { username: 'dave', email: 'dave@example.com', fullName: 'Dave' } }, admin);
    expect(res.errors).toBeUndefined();
    const password = res.data!.createUser.generatedPassword!;
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(res.data!.createUser.user).toMatchObject({ username: 'dave', email: 'dave@example.com', role: 'USER', active: true, authSource: 'local', hasPassword: true });
    const row = await db().user.findUniqueOrThrow({ where: { username: 'dave' } });
    expect(row.passwordHash).not.toContain(password);
    expect(await canLogIn('dave', password)).toBe(true);
    const event = await db().auditEvent.findFirstOrThrow({ where: { eventType: 'USER_CREATED', subjectId: row.id } });
    expect(event).toMatchObject({ actorUserId: adminId, actorUsername: 'admin', severity: 'INFO' });
    expect(event.details).not.toContain(password);
  });

  test('with a password: nothing is returned', async () => {
    const res = await gql(server, CreateUserDocument, { input: { username: 'erin', password: 'erin-chosen-pw' } }, admin);
    expect(res.data?.createUser.generatedPassword).toBeNull();
    expect(await canLogIn('erin', 'erin-chosen-pw')).toBe(true);
  });

  test('a taken username or email is CONFLICT and nothing is written', async () => {
    await gql(server, CreateUserDocument, { input: { username: 'frank', email: 'frank@example.com' } }, admin);
    const before = await db().user.count();
    expect(codes(await gql(server, CreateUserDocument, { input: { username: 'frank' } }, admin))).toEqual(['CONFLICT']);
    expect(codes(await gql(server, CreateUserDocument, { input: { username: 'frank2', email: 'frank@example.com' } }, admin))).toEqual(['CONFLICT']);
    expect(await db().user.count()).toBe(before);
  });
});

describe('updateUser', () => {
  test('changes the given fields, audits before and after; unknown id NOT_FOUND; duplicate CONFLICT', async () => {
    const user = await newUser('gina');
    const res = await gql(server, UpdateUserDocument, { id: globalId('User', user.id), input: { fullName: 'Gina G', email: 'gina@example.com' } }, admin);
    expect(res.data?.updateUser.user).toMatchObject({ username: 'gina', fullName: 'Gina G', email: 'gina@example.com' });
    const event = await db().auditEvent.findFirstOrThrow({ where: { eventType: 'USER_UPDATED', subjectId: user.id } });
    expect(JSON.parse(event.details)).toEqual({ fullName: { before: '', after: 'Gina G' }, email: { before: null, after: 'gina@example.com' } });
    expect(codes(await gql(server, UpdateUserDocument, { id: globalId('User', randomUUID()), input: { fullName: 'x' } }, admin))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(server, UpdateUserDocument, { id: globalId('User', user.id), input: { username: 'admin' } }, admin))).toEqual(['CONFLICT']);
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).username).toBe('gina');
  });
});

describe('disableUser and enableUser', () => {
  test('disabling ends every session and token: inactive at introspection, signed out of the pages; enabling brings none back', async () => {
    const user = await newUser('alice');
    const tokens = await deviceFlowToken(server, { scope: 'read offline_access', username: 'alice', password: 'alice-password' });
    const browser = await signedInBrowser(server, 'alice', 'alice-password');
    expect((await gql(server, ViewerDocument, {}, { browser })).data?.viewer?.username).toBe('alice');
    expect((await introspect(tokens.access_token)).active).toBe(true);
    expect(await db().session.count({ where: { userId: user.id } })).toBeGreaterThan(0);

    const res = await gql(server, DisableUserDocument, { id: globalId('User', user.id) }, admin);
    expect(res.errors).toBeUndefined();
    expect(res.data?.disableUser.user.active).toBe(false);
    expect(res.data?.disableUser.tokensRevoked).toBe(2);
    expect(res.data?.disableUser.sessionsEnded).toBeGreaterThan(0);

    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token!)).toEqual({ active: false });
    expect(await db().session.count({ where: { userId: user.id } })).toBe(0);
    expect(codes(await gql(server, ViewerDocument, {}, { browser }))).toEqual(['UNAUTHENTICATED']);
    expect(await db().auditEvent.count({ where: { eventType: 'USER_DISABLED', subjectId: user.id, severity: 'WARNING' } })).toBe(1);

    const enabled = await gql(server, EnableUserDocument, { id: globalId('User', user.id) }, admin);
    expect(enabled.data?.enableUser.user.active).toBe(true);
    // Old tokens stay dead: revoked for good, not merely suspended.
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.refresh_token!)).toEqual({ active: false });
    const refresh = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: server.cliClientId });
    expect(refresh.json.error).toBe('invalid_grant');
    expect(await db().token.count({ where: { userId: user.id, status: { not: 'revoked' } } })).toBe(0);
    // The user can sign in again and get new tokens.
    const fresh = await deviceFlowToken(server, { scope: 'read', username: 'alice', password: 'alice-password' });
    expect((await introspect(fresh.access_token)).active).toBe(true);
  });

  test('an admin cannot disable themself', async () => {
    const res = await gql(server, DisableUserDocument, { id: globalId('User', adminId) }, admin);
    expect(codes(res)).toEqual(['CONFLICT']);
    expect((await db().user.findUniqueOrThrow({ where: { id: adminId } })).active).toBe(true);
  });

  test('the last active administrator cannot be disabled, demoted or deleted (here by a service account)', async () => {
    expect(await db().user.count({ where: { role: 'admin', active: true } })).toBe(1);
    const id = globalId('User', adminId);
    expect(codes(await gql(server, DisableUserDocument, { id }, serviceAccount))).toEqual(['CONFLICT']);
    expect(codes(await gql(server, SetUserRoleDocument, { id, role: 'USER' }, serviceAccount))).toEqual(['CONFLICT']);
    expect(codes(await gql(server, DeleteUserDocument, { id }, serviceAccount))).toEqual(['CONFLICT']);
    const row = await db().user.findUniqueOrThrow({ where: { id: adminId } });
    expect(row).toMatchObject({ role: 'admin', active: true });
    // Nothing half-done: the refused disable revoked no token and ended no session.
    expect((await introspect(admin.token!)).active).toBe(true);
  });

  test('racing disables of the only two admins never leave none (10 rounds)', async () => {
    const carol = await newUser('carol', 'admin');
    for (let round = 0; round < 10; round++) {
      await db().user.updateMany({ where: { id: { in: [adminId, carol.id] } }, data: { active: true } });
      const results = await Promise.all(
        [adminId, carol.id].map((id) => gql(server, DisableUserDocument, { id: globalId('User', id) }, serviceAccount)),
      );
      const succeeded = results.filter((r) => !r.errors);
      expect(succeeded).toHaveLength(1);
      expect(results.flatMap(codes)).toEqual(['CONFLICT']);
      expect(await db().user.count({ where: { role: 'admin', active: true } })).toBe(1);
    }
    await db().user.update({ where: { id: adminId }, data: { active: true } });
    await db().user.delete({ where: { id: carol.id } });
    // The admin's token was revoked in a round they lost; get a new one for the tests after this.
    admin = { token: (await deviceFlowToken(server, { scope: 'admin' })).access_token };
  }, 40_000);

  test('racing demotions of the only two admins never leave none (10 rounds)', async () => {
    const ivan = await newUser('ivan', 'admin');
    for (let round = 0; round < 10; round++) {
      await db().user.updateMany({ where: { id: { in: [adminId, ivan.id] } }, data: { role: 'admin', active: true } });
      const results = await Promise.all(
        [adminId, ivan.id].map((id) => gql(server, SetUserRoleDocument, { id: globalId('User', id), role: 'USER' }, serviceAccount)),
      );
      expect(results.filter((r) => !r.errors)).toHaveLength(1);
      expect(await db().user.count({ where: { role: 'admin', active: true } })).toBe(1);
    }
    await db().user.update({ where: { id: adminId }, data: { role: 'admin' } });
    await db().user.delete({ where: { id: ivan.id } });
  }, 40_000);
});

describe('resetUserPassword', () => {
  test('a local user gets a new password once; the old one stops working and their sessions end', async () => {
    const user = await newUser('hank');
    const browser = await signedInBrowser(server, 'hank', 'hank-password');
    const res = await gql(server, ResetUserPasswordDocument, { id: globalId('User', user.id) }, admin);
    expect(res.errors).toBeUndefined();
    const password = res.data!.resetUserPassword.password;
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(await canLogIn('hank', 'hank-password')).toBe(false);
    expect(await canLogIn('hank', password)).toBe(true);
    expect(codes(await gql(server, ViewerDocument, {}, { browser }))).toEqual(['UNAUTHENTICATED']);
    const event = await db().auditEvent.findFirstOrThrow({ where: { eventType: 'USER_PASSWORD_RESET', subjectId: user.id } });
    expect(event.details).not.toContain(password);
  });

  test('a user from another sign-in source is refused and unchanged', async () => {
    const user = await db().user.create({ data: { username: 'ldap-user', authSource: 'http_api' } });
    expect(codes(await gql(server, ResetUserPasswordDocument, { id: globalId('User', user.id) }, admin))).toEqual(['BAD_USER_INPUT']);
    expect((await db().user.findUniqueOrThrow({ where: { id: user.id } })).passwordHash).toBeNull();
  });
});

describe('setUserRole', () => {
  test('promotion takes effect at once and is audited at WARNING with before and after', async () => {
    const user = await newUser('judy');
    const token = (await deviceFlowToken(server, { scope: 'admin', username: 'judy', password: 'judy-password' })).access_token;
    expect(codes(await gql(server, SetUserRoleDocument, { id: globalId('User', adminId), role: 'ADMIN' }, { token }))).toEqual(['FORBIDDEN']);
    const res = await gql(server, SetUserRoleDocument, { id: globalId('User', user.id), role: 'ADMIN' }, admin);
    expect(res.data?.setUserRole.user.role).toBe('ADMIN');
    expect((await gql(server, ViewerDocument, {}, { token })).data?.viewer?.isAdmin).toBe(true);
    const event = await db().auditEvent.findFirstOrThrow({ where: { eventType: 'USER_ROLE_CHANGED', subjectId: user.id } });
    expect(event.severity).toBe('WARNING');
    expect(JSON.parse(event.details)).toMatchObject({ before: 'user', after: 'admin' });
  });
});

describe('deleteUser', () => {
  test('deletes the user with their tokens; self-delete is refused', async () => {
    const user = await newUser('kate');
    const tokens = await deviceFlowToken(server, { scope: 'read', username: 'kate', password: 'kate-password' });
    const res = await gql(server, DeleteUserDocument, { id: globalId('User', user.id) }, admin);
    expect(res.data?.deleteUser.deletedId).toBe(globalId('User', user.id));
    expect(await db().user.count({ where: { id: user.id } })).toBe(0);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect(await db().auditEvent.count({ where: { eventType: 'USER_DELETED', subjectId: user.id } })).toBe(1);
    expect(codes(await gql(server, DeleteUserDocument, { id: globalId('User', adminId) }, admin))).toEqual(['CONFLICT']);
  });
});

describe('unlinkConnection', () => {
  test('an admin unlinks anyone’s; a user only their own (another’s is NOT_FOUND)', async () => {
    const lena = await newUser('lena');
    const mike = await newUser('mike');
    const [a, b] = await Promise.all(
      ['github', 'gitea'].map((provider) => db().oAuthConnection.create({ data: { userId: lena.id, provider, providerUserId: `${provider}-lena` } })),
    );
    const mikeToken = (await deviceFlowToken(server, { scope: 'read', username: 'mike', password: 'mike-password' })).access_token;
    const lenaToken = (await deviceFlowToken(server, { scope: 'read', username: 'lena', password: 'lena-password' })).access_token;
    expect(codes(await gql(server, UnlinkConnectionDocument, { id: globalId('OAuthConnection', a!.id) }, { token: mikeToken }))).toEqual(['NOT_FOUND']);
    expect((await gql(server, UnlinkConnectionDocument, { id: globalId('OAuthConnection', a!.id) }, { token: lenaToken })).errors).toBeUndefined();
    expect((await gql(server, UnlinkConnectionDocument, { id: globalId('OAuthConnection', b!.id) }, admin)).errors).toBeUndefined();
    expect(await db().oAuthConnection.count({ where: { userId: lena.id } })).toBe(0);
    expect(await db().auditEvent.count({ where: { eventType: 'CONNECTION_UNLINKED', subjectId: lena.id } })).toBe(2);
    void mike;
  });
});
