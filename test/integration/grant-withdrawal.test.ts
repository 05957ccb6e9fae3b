// What each revocation withdraws besides tokens (issue 6/7): unused authorization codes, approved
// device codes; a device approval is a consent like any other; the RevocationService operations the
// GraphQL face calls.
import { NotFound } from '../../src/domain/errors.js';
import { createClient } from '../helpers/clients.js';
import {
  approvedDeviceCode,
  createIntrospector,
  exchangeCode,
  freshGrantParties,
  isActive,
  issueCode,
  pollDevice,
  refresh,
  req,
  SCOPES,
  tokensFromCode,
  type Introspector,
} from '../helpers/grants.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('withdrawing grants', () => {
  let server: TestServer;
  let rs: Introspector;
  beforeAll(async () => {
    server = await startTestServer({ ENABLE_TOKEN_ROTATION: 'true' });
    rs = await createIntrospector(server);
  });
  afterAll(() => server.close());

  test('a device approval records the user\'s authorization for the client; revoking it withdraws an approved, uncollected device code', async () => {
    const { user, client } = await freshGrantParties(server);
    const db = server.authgate.db;
    const deviceCode = await approvedDeviceCode(server, user, client);
    const authorization = await db.userAuthorization.findUniqueOrThrow({ where: { userId_clientId: { userId: user.id, clientId: client.id } } });
    expect(authorization.scopes.split(' ').sort()).toEqual([...SCOPES].sort());
    expect(authorization.revokedAt).toBeNull();

    const result = await server.authgate.services.revocation.revokeUserAuthorization(user.id, authorization.id, req);
    expect(result).toMatchObject({ deviceCodesRevoked: 1 });
    const poll = await pollDevice(server, client, deviceCode);
    expect(poll.status).toBe(400);
    expect(poll.json.error).toBe('access_denied');

    // Approving again (a new device code) makes the consent live again, with its scopes.
    const again = await approvedDeviceCode(server, user, client);
    expect((await db.userAuthorization.findUniqueOrThrow({ where: { id: authorization.id } })).revokedAt).toBeNull();
    expect((await pollDevice(server, client, again)).status).toBe(200);
  });

  test('a consent revocation withdraws unused authorization codes', async () => {
    const { user, client } = await freshGrantParties(server);
    const code = await issueCode(server, user, client);
    const authorization = await server.authgate.db.userAuthorization.findUniqueOrThrow({ where: { userId_clientId: { userId: user.id, clientId: client.id } } });
    const result = await server.authgate.services.revocation.revokeUserAuthorization(user.id, authorization.id, req);
    expect(result).toMatchObject({ authorizationCodesRevoked: 1, tokensRevoked: 0 });
    const res = await exchangeCode(server, client, code);
    expect(res.status).toBe(400);
    expect(res.json.error).toBe('invalid_grant');
    // A withdrawn code is not a replayed one: no reuse alarm.
    expect(await server.authgate.db.auditEvent.count({ where: { eventType: 'AUTHORIZATION_CODE_REUSE', clientId: client.clientId } })).toBe(0);
  });

  test('a withdrawn consent refuses refreshes of tokens that predate it (the grant is re-checked at issuance)', async () => {
    const { user, client } = await freshGrantParties(server);
    const tokens = await tokensFromCode(server, user, client);
    const db = server.authgate.db;
    // Withdrawn without sweeping (as a consent withdrawn on another path would be): issuance still refuses.
    await db.userAuthorization.update({ where: { userId_clientId: { userId: user.id, clientId: client.id } }, data: { revokedAt: new Date() } });
    const res = await refresh(server, client, tokens.refresh_token);
    expect(res.status).toBe(400);
    expect(res.json.error_description).toMatch(/withdrawn/);
  });

  test('revokeAllForUser without disabling: every token and code dies, the user can sign in and get new ones', async () => {
    const { user, client } = await freshGrantParties(server);
    const tokens = await tokensFromCode(server, user, client);
    const code = await issueCode(server, user, client);
    const result = await server.authgate.services.revocation.revokeAllForUser(user.id, { userId: null }, req);
    expect(result).toMatchObject({ tokensRevoked: 2, authorizationCodesRevoked: 1 });
    expect(await isActive(server, rs, tokens.access_token)).toBe(false);
    expect((await exchangeCode(server, client, code)).status).toBe(400);
    expect((await server.authgate.db.user.findUniqueOrThrow({ where: { id: user.id } })).active).toBe(true);
    const fresh = await tokensFromCode(server, user, client);
    expect(await isActive(server, rs, fresh.access_token)).toBe(true);
    await expect(server.authgate.services.revocation.revokeAllForUser('00000000-0000-0000-0000-000000000000', {}, req)).rejects.toBeInstanceOf(NotFound);
  });

  test('revokeFamily ends one family and is audited; an unknown family is NotFound', async () => {
    const { user, client } = await freshGrantParties(server);
    const tokens = await tokensFromCode(server, user, client);
    const row = await server.authgate.db.token.findFirstOrThrow({ where: { userId: user.id, clientId: client.id, category: 'refresh' } });
    const result = await server.authgate.services.revocation.revokeFamily(row.familyId, { userId: user.id, username: user.username }, req);
    expect(result).toEqual({ tokensRevoked: 2 });
    expect(await isActive(server, rs, tokens.refresh_token)).toBe(false);
    const event = await server.authgate.db.auditEvent.findFirstOrThrow({ where: { eventType: 'TOKEN_FAMILY_REVOKED', subjectId: row.familyId } });
    expect(event).toMatchObject({ severity: 'WARNING', actorUserId: user.id, clientId: client.clientId });
    await expect(server.authgate.services.revocation.revokeFamily('no-such-family', {}, req)).rejects.toBeInstanceOf(NotFound);
  });

  test('after "revoke all", the client (still active) obtains new client_credentials tokens; the old ones are dead', async () => {
    const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const creds = { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! };
    const before = String((await postForm(`${server.url}/oauth/token`, creds)).json.access_token);
    const row = await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId: svc.clientId } });
    await server.authgate.services.revocation.revokeAllForClient(row.id, { userId: null }, req);
    expect(await isActive(server, rs, before)).toBe(false);
    const after = await postForm(`${server.url}/oauth/token`, creds);
    expect(after.status).toBe(200);
    expect(await isActive(server, rs, String(after.json.access_token))).toBe(true);
  });

  test('a refresh whose client is found inactive inside the issuing transaction (its cached copy still active) is answered 401 invalid_client, as authentication answers, and issues nothing', async () => {
    const { user, client } = await freshGrantParties(server);
    const tokens = await tokensFromCode(server, user, client);
    const db = server.authgate.db;
    const before = await db.token.count({ where: { clientId: client.id } });
    // Behind the services' back: the client cache keeps the active copy the code exchange read.
    await db.oAuthClient.update({ where: { id: client.id }, data: { active: false } });
    const refused = await refresh(server, client, tokens.refresh_token);
    expect([refused.status, refused.json.error]).toEqual([401, 'invalid_client']);
    expect(await db.token.count({ where: { clientId: client.id } })).toBe(before);
    // Audited as a refused authentication, with a reason that says where it was refused.
    const reasons = async () =>
      (await db.auditEvent.findMany({ where: { eventType: 'CLIENT_AUTHENTICATION_FAILURE', clientId: client.clientId }, orderBy: { createdAt: 'asc' } })).map(
        (e) => JSON.parse(e.details).reason,
      );
    expect(await reasons()).toEqual(['client_refused_at_issuance']);
    await server.authgate.caches.clientChanged({ id: client.id, clientId: client.clientId });
    const again = await refresh(server, client, tokens.refresh_token);
    expect([again.status, again.json.error]).toEqual([401, 'invalid_client']);
    // A refused authentication's event is buffered; the refusal at issuance is written before the answer.
    await server.authgate.services.audit.flush();
    expect(await reasons()).toEqual(['client_refused_at_issuance', 'unknown_or_inactive_client']);
  });
});
