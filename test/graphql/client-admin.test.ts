// Administering OAuth clients through GraphQL over real HTTP: secrets shown once and working at the
// token endpoint, rotation killing the old secret at once, approval of self-registered clients,
// service-account rights following the flag, and validation that writes nothing when it refuses.
import { sha256Hex } from '../../src/domain/crypto.js';
import { createClient } from '../helpers/clients.js';
import { clientCredentialsToken, codes, deviceFlowToken, gql, signedInBrowser, type CallOptions } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import {
  ApproveClientDocument,
  ClientAuthorizationsDocument,
  ClientDocument,
  ClientsDocument,
  CreateClientDocument,
  CreateUserDocument,
  DeleteClientDocument,
  RejectClientDocument,
  RevokeAllClientTokensDocument,
  RevokeAuthorizationDocument,
  RotateClientSecretDocument,
  UpdateClientDocument,
  UsersDocument,
} from './generated/graphql.js';

let server: TestServer;
let admin: CallOptions;
let introspect: (token: string) => Promise<Record<string, unknown>>;
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');
const db = () => server.authgate.db;
const rowId = (id: string) => Buffer.from(id, 'base64').toString().split(':')[1]!;

beforeAll(async () => {
  // Open registration: self-registered clients wait for an administrator.
  server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' });
  admin = { token: (await deviceFlowToken(server, { scope: 'admin' })).access_token };
  const rs = await createClient(server, { type: 'confidential', authCode: false });
  introspect = async (token) => {
    const auth = `Basic ${Buffer.from(`${rs.clientId}:${rs.clientSecret}`).toString('base64')}`;
    return (await postForm(`${server.url}/oauth/introspect`, { token }, { authorization: auth })).json;
  };
});
afterAll(() => server.close());

const serviceInput = {
  name: 'Backup job',
  description: 'Nightly export',
  clientType: 'CONFIDENTIAL' as const,
  enableAuthCodeFlow: false,
  enableClientCredentials: true,
  allowedScopes: ['read', 'admin'],
};

describe('createClient', () => {
  test('a confidential client gets a secret once; it works at the token endpoint and is stored only hashed', async () => {
    const res = await gql(server, CreateClientDocument, { input: serviceInput }, admin);
    expect(res.errors).toBeUndefined();
    const { client, clientSecret } = res.data!.createClient;
    expect(clientSecret).toEqual(expect.any(String));
    expect(client).toMatchObject({
      name: 'Backup job',
      clientType: 'CONFIDENTIAL',
      allowedScopes: ['read', 'admin'],
      enableClientCredentials: true,
      approvalStatus: 'APPROVED',
      active: true,
      isServiceAccount: false,
      hasSecret: true,
      tokenProfile: 'STANDARD',
      createdBy: { username: 'admin' },
    });
    const row = await db().oAuthClient.findUniqueOrThrow({ where: { clientId: client.clientId } });
    expect(row.clientSecretHash).toBe(sha256Hex(clientSecret!));
    expect((await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).status).toBe(200);
    const event = await db().auditEvent.findFirstOrThrow({ where: { eventType: 'CLIENT_CREATED', subjectId: row.id } });
    expect(event.details).not.toContain(clientSecret!);
    // Never readable again.
    const again = await gql(server, ClientDocument, { id: client.id }, admin);
    expect(JSON.stringify(again.data)).not.toContain(clientSecret!);
  });

  test('a public client has no secret', async () => {
    const res = await gql(
      server,
      CreateClientDocument,
      { input: { name: 'Mobile', clientType: 'PUBLIC', redirectUris: ['com.example.app:/callback', 'https://app.example.com/cb'], enableDeviceFlow: true } },
      admin,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.createClient.clientSecret).toBeNull();
    expect(res.data?.createClient.client).toMatchObject({ hasSecret: false, redirectUris: ['com.example.app:/callback', 'https://app.example.com/cb'] });
  });

  test.each([
    ['a relative redirect URI', { redirectUris: ['/callback'] }],
    ['a redirect URI with a fragment', { redirectUris: ['https://app.example.com/cb#x'] }],
    ['a javascript: redirect URI', { redirectUris: ['javascript:alert(1)'] }],
    ['an unknown scope', { allowedScopes: ['openid', 'root'] }],
    ['the code flow without redirect URIs', { enableAuthCodeFlow: true, redirectUris: [] }],
    ['client credentials on a public client', { clientType: 'PUBLIC' as const, enableClientCredentials: true, enableAuthCodeFlow: false }],
    ['a public service account', { clientType: 'PUBLIC' as const, isServiceAccount: true, enableAuthCodeFlow: false }],
    ['an empty name', { name: '  ' }],
  ])('%s is BAD_USER_INPUT and nothing is stored', async (_what, change) => {
    const before = await db().oAuthClient.count();
    const res = await gql(server, CreateClientDocument, { input: { name: 'Bad', redirectUris: ['https://ok.example.com/cb'], ...change } }, admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect(await db().oAuthClient.count()).toBe(before);
  });
});

describe('updateClient', () => {
  test('a token-profile change is audited at WARNING with before and after; a name change at INFO', async () => {
    const created = (await gql(server, CreateClientDocument, { input: { name: 'Profiled', redirectUris: ['https://p.example.com/cb'] } }, admin)).data!.createClient.client;
    const renamed = await gql(server, UpdateClientDocument, { id: created.id, input: { name: 'Profiled app' } }, admin);
    expect(renamed.data?.updateClient).toMatchObject({ clientSecret: null, client: { name: 'Profiled app', redirectUris: ['https://p.example.com/cb'] } });
    const res = await gql(server, UpdateClientDocument, { id: created.id, input: { tokenProfile: 'LONG' } }, admin);
    expect(res.data?.updateClient.client.tokenProfile).toBe('LONG');
    const events = await db().auditEvent.findMany({ where: { eventType: 'CLIENT_UPDATED', subjectId: rowId(created.id) }, orderBy: { createdAt: 'asc' } });
    expect(events.map((e) => e.severity)).toEqual(['INFO', 'WARNING']);
    expect(Object.keys(JSON.parse(events[1]!.details))).toContain('tokenProfile');
  });

  test('invalid settings are refused as a whole and nothing changes', async () => {
    const created = (await gql(server, CreateClientDocument, { input: { name: 'Stable', redirectUris: ['https://s.example.com/cb'] } }, admin)).data!.createClient.client;
    const res = await gql(server, UpdateClientDocument, { id: created.id, input: { name: 'Changed', redirectUris: [] } }, admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect((await db().oAuthClient.findUniqueOrThrow({ where: { id: rowId(created.id) } })).name).toBe('Stable');
    expect(codes(await gql(server, UpdateClientDocument, { id: globalId('Client', '00000000-0000-0000-0000-000000000000'), input: { name: 'x' } }, admin))).toEqual([
      'NOT_FOUND',
    ]);
  });

  test('the service-account flag gives and takes admin rights at once, on the same token', async () => {
    const { client, clientSecret } = (await gql(server, CreateClientDocument, { input: { ...serviceInput, name: 'Robot' } }, admin)).data!.createClient;
    const token = (await clientCredentialsToken(server, client.clientId, clientSecret!, 'admin')).token!;
    expect(codes(await gql(server, UsersDocument, { first: 1 }, { token }))).toEqual(['FORBIDDEN']);
    const flagged = await gql(server, UpdateClientDocument, { id: client.id, input: { isServiceAccount: true } }, admin);
    expect(flagged.data?.updateClient.client.isServiceAccount).toBe(true);
    expect((await gql(server, UsersDocument, { first: 1 }, { token })).errors).toBeUndefined();
    await gql(server, UpdateClientDocument, { id: client.id, input: { isServiceAccount: false } }, admin);
    expect(codes(await gql(server, UsersDocument, { first: 1 }, { token }))).toEqual(['FORBIDDEN']);
    const events = await db().auditEvent.findMany({ where: { eventType: 'CLIENT_UPDATED', subjectId: rowId(client.id) } });
    expect(events.every((e) => e.severity === 'WARNING')).toBe(true);
  });
});

describe('active: false suspends a client', () => {
  test('while inactive it obtains nothing and its tokens are refused; reactivated, its unexpired tokens work again; revoke all ends them', async () => {
    const { client, clientSecret } = (await gql(server, CreateClientDocument, { input: { ...serviceInput, name: 'Suspended' } }, admin)).data!.createClient;
    const token = (await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).token!;
    expect(await introspect(token)).toMatchObject({ active: true });
    expect((await gql(server, UpdateClientDocument, { id: client.id, input: { active: false } }, admin)).errors).toBeUndefined();
    expect(await introspect(token)).toEqual({ active: false });
    expect((await fetch(`${server.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    expect(await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).toMatchObject({ status: 401, error: 'invalid_client' });
    await gql(server, UpdateClientDocument, { id: client.id, input: { active: true } }, admin);
    expect(await introspect(token)).toMatchObject({ active: true });
    expect((await gql(server, RevokeAllClientTokensDocument, { id: client.id }, admin)).errors).toBeUndefined();
    expect(await introspect(token)).toEqual({ active: false });
  });
});

describe('rotateClientSecret', () => {
  test('the old secret stops working at once; the new one works', async () => {
    const { client, clientSecret: oldSecret } = (await gql(server, CreateClientDocument, { input: { ...serviceInput, name: 'Rotating' } }, admin)).data!.createClient;
    const res = await gql(server, RotateClientSecretDocument, { id: client.id }, admin);
    const newSecret = res.data!.rotateClientSecret.clientSecret!;
    expect(newSecret).not.toBe(oldSecret);
    const old = await clientCredentialsToken(server, client.clientId, oldSecret!, 'read');
    expect(old).toMatchObject({ status: 401, error: 'invalid_client' });
    expect((await clientCredentialsToken(server, client.clientId, newSecret, 'read')).status).toBe(200);
    expect(await db().auditEvent.count({ where: { eventType: 'CLIENT_SECRET_ROTATED', subjectId: rowId(client.id), severity: 'WARNING' } })).toBe(1);
  });

  test('a public client has no secret to rotate', async () => {
    const cli = await db().oAuthClient.findFirstOrThrow({ where: { name: 'AuthGate CLI' } });
    expect(codes(await gql(server, RotateClientSecretDocument, { id: globalId('Client', cli.id) }, admin))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('approveClient and rejectClient', () => {
  async function registerPending(name: string) {
    const res = await fetch(`${server.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: name, grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'openid' }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_id: string; client_secret: string };
    const row = await db().oAuthClient.findUniqueOrThrow({ where: { clientId: body.client_id } });
    return { ...body, id: globalId('Client', row.id) };
  }

  test('a pending registration obtains tokens only once approved; a second decision is CONFLICT', async () => {
    const reg = await registerPending('Self-registered service');
    const pending = await gql(server, ClientsDocument, { first: 10, filter: { status: 'PENDING' } }, admin);
    expect(pending.data?.clients.edges.map((e) => e.node.name)).toEqual(['Self-registered service']);
    expect((await clientCredentialsToken(server, reg.client_id, reg.client_secret, '')).error).toBe('invalid_client');
    const res = await gql(server, ApproveClientDocument, { id: reg.id }, admin);
    expect(res.data?.approveClient.client.approvalStatus).toBe('APPROVED');
    expect((await clientCredentialsToken(server, reg.client_id, reg.client_secret, '')).status).toBe(200);
    expect(codes(await gql(server, RejectClientDocument, { id: reg.id }, admin))).toEqual(['CONFLICT']);
    expect(await db().auditEvent.count({ where: { eventType: 'CLIENT_APPROVED', subjectId: rowId(reg.id) } })).toBe(1);
  });

  test('racing approval and rejection: exactly one decision wins, the other is CONFLICT (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const reg = await registerPending(`Contested ${round}`);
      const [approve, reject] = await Promise.all([
        gql(server, ApproveClientDocument, { id: reg.id }, admin),
        gql(server, RejectClientDocument, { id: reg.id }, admin),
      ]);
      expect([approve, reject].filter((r) => !r.errors)).toHaveLength(1);
      expect([...codes(approve), ...codes(reject)]).toEqual(['CONFLICT']);
      const status = (await db().oAuthClient.findUniqueOrThrow({ where: { id: rowId(reg.id) } })).approvalStatus;
      expect(status).toBe(approve.errors ? 'rejected' : 'approved');
      expect(await db().auditEvent.count({ where: { eventType: { in: ['CLIENT_APPROVED', 'CLIENT_REJECTED'] }, subjectId: rowId(reg.id) } })).toBe(1);
    }
  });

  test('a rejected registration stays unable to obtain tokens', async () => {
    const reg = await registerPending('Unwanted');
    const res = await gql(server, RejectClientDocument, { id: reg.id }, admin);
    expect(res.data?.rejectClient.client.approvalStatus).toBe('REJECTED');
    expect((await clientCredentialsToken(server, reg.client_id, reg.client_secret, '')).error).toBe('invalid_client');
    expect(codes(await gql(server, ApproveClientDocument, { id: reg.id }, admin))).toEqual(['CONFLICT']);
  });
});

describe('revokeAllClientTokens and deleteClient', () => {
  test("revoke-all ends every token the client holds; delete removes the client and its tokens", async () => {
    const { client, clientSecret } = (await gql(server, CreateClientDocument, { input: { ...serviceInput, name: 'Leaky' } }, admin)).data!.createClient;
    const tokens = await Promise.all([1, 2].map(async () => (await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).token!));
    for (const t of tokens) expect((await introspect(t)).active).toBe(true);
    const res = await gql(server, RevokeAllClientTokensDocument, { id: client.id }, admin);
    expect(res.data?.revokeAllClientTokens.tokensRevoked).toBe(2);
    for (const t of tokens) expect(await introspect(t)).toEqual({ active: false });

    const fresh = (await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).token!;
    const deleted = await gql(server, DeleteClientDocument, { id: client.id }, admin);
    expect(deleted.data?.deleteClient.deletedId).toBe(client.id);
    expect(await introspect(fresh)).toEqual({ active: false });
    expect((await clientCredentialsToken(server, client.clientId, clientSecret!, 'read')).error).toBe('invalid_client');
    expect(codes(await gql(server, ClientDocument, { id: client.id }, admin))).toEqual(['NOT_FOUND']);
    expect(await db().auditEvent.count({ where: { eventType: 'CLIENT_DELETED', subjectId: rowId(client.id), severity: 'WARNING' } })).toBe(1);
  });
});

describe('clients query', () => {
  test('filters by search, type, active and status, and pages with cursors and totalCount', async () => {
    const confidential = await gql(server, ClientsDocument, { first: 100, filter: { type: 'CONFIDENTIAL' } }, admin);
    expect(confidential.data!.clients.edges.every((e) => e.node.clientType === 'CONFIDENTIAL')).toBe(true);
    const search = await gql(server, ClientsDocument, { first: 10, filter: { search: 'rotat' } }, admin);
    expect(search.data?.clients.edges.map((e) => e.node.name)).toEqual(['Rotating']);
    const all = await gql(server, ClientsDocument, { first: 100 }, admin);
    const total = all.data!.clients.totalCount;
    expect(total).toBe(await db().oAuthClient.count());
    const names: string[] = [];
    let after: string | null | undefined = null;
    do {
      const page: Awaited<ReturnType<typeof gql<typeof all.data>>> = await gql(server, ClientsDocument, { first: 3, after }, admin);
      names.push(...page.data!.clients.edges.map((e) => e.node.name));
      after = page.data!.clients.pageInfo.hasNextPage ? page.data!.clients.pageInfo.endCursor : null;
    } while (after);
    expect(names).toEqual(all.data!.clients.edges.map((e) => e.node.name));
    expect(names).toHaveLength(total);
  });

  test('statuses: any of several approval statuses (all but PENDING for a list that shows pending ones apart)', async () => {
    const pending = await fetch(`${server.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Still waiting', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    expect(pending.status).toBe(201);
    const all = (await gql(server, ClientsDocument, { first: 100 }, admin)).data!.clients.edges.map((e) => e.node);
    const res = await gql(server, ClientsDocument, { first: 100, filter: { statuses: ['APPROVED', 'REJECTED'] } }, admin);
    expect(res.errors).toBeUndefined();
    const names = res.data!.clients.edges.map((e) => e.node.name);
    expect(names).toEqual(all.filter((c) => c.approvalStatus !== 'PENDING').map((c) => c.name));
    expect(all.some((c) => c.approvalStatus === 'PENDING')).toBe(true);
    expect(all.some((c) => c.approvalStatus === 'REJECTED')).toBe(true);
    expect(res.data!.clients.totalCount).toBe(names.length);
    const none = await gql(server, ClientsDocument, { first: 10, filter: { statuses: [] } }, admin);
    expect(none.data!.clients.totalCount).toBe(0);
  });
});

describe('Client.authorizations', () => {
  test('the users who authorized a client and have not withdrawn it, newest first, with their scopes; admins only', async () => {
    const { client } = (await gql(server, CreateClientDocument, { input: { name: 'Consented app', clientType: 'PUBLIC', enableAuthCodeFlow: false, enableDeviceFlow: true, allowedScopes: ['openid', 'profile', 'read'] } }, admin)).data!.createClient;
    const created = await gql(server, CreateUserDocument, { input: { username: 'consenting' } }, admin);
    const password = created.data!.createUser.generatedPassword!;
    await deviceFlowToken(server, { scope: 'openid read', clientId: client.clientId, username: 'consenting', password });
    await deviceFlowToken(server, { scope: 'profile', clientId: client.clientId });

    const res = await gql(server, ClientAuthorizationsDocument, { id: client.id, first: 10 }, admin);
    expect(res.errors).toBeUndefined();
    const list = res.data!.client!.authorizations;
    expect(list.totalCount).toBe(2);
    expect(list.edges.map((e) => [e.node.user.username, e.node.scopes])).toEqual([
      ['admin', ['profile']],
      ['consenting', ['openid', 'read']],
    ]);
    expect(list.edges.every((e) => e.node.client.name === 'Consented app' && e.node.revokedAt === null)).toBe(true);

    // Paged with cursors.
    const first = await gql(server, ClientAuthorizationsDocument, { id: client.id, first: 1 }, admin);
    expect(first.data!.client!.authorizations.pageInfo.hasNextPage).toBe(true);
    const second = await gql(server, ClientAuthorizationsDocument, { id: client.id, first: 1, after: first.data!.client!.authorizations.pageInfo.endCursor }, admin);
    expect(second.data!.client!.authorizations.edges.map((e) => e.node.user.username)).toEqual(['consenting']);

    // A withdrawn authorization is no longer listed.
    const revoked = await gql(server, RevokeAuthorizationDocument, { id: list.edges[1]!.node.id }, admin);
    expect(revoked.errors).toBeUndefined();
    const after = await gql(server, ClientAuthorizationsDocument, { id: client.id, first: 10 }, admin);
    expect(after.data!.client!.authorizations.edges.map((e) => e.node.user.username)).toEqual(['admin']);
    expect(after.data!.client!.authorizations.totalCount).toBe(1);

    // Not for anyone else: a signed-in user who is not an admin is refused.
    const asUser = await gql(server, ClientAuthorizationsDocument, { id: client.id, first: 10 }, { browser: await signedInBrowser(server, 'consenting', password) });
    expect(codes(asUser)).toContain('FORBIDDEN');
    expect(asUser.data?.client ?? null).toBeNull();
  });
});
