// Issue 7's acceptance script, over real HTTP: an administrator with a device-flow token (scope
// `admin`) runs a day's work through GraphQL, and every step is checked where it takes effect (the
// token endpoint, introspection, sign-in) and in the audit log, both queried with filters and
// received live on the `auditEvents` subscription (Server-Sent Events read during the script).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createHash, randomBytes } from 'node:crypto';
import {
  ApproveClientDocument,
  AuditEventsDocument,
  ClientsDocument,
  CreateClientDocument,
  CreateUserDocument,
  DisableUserDocument,
  EnableUserDocument,
  OnAuditEventDocument,
  ResetUserPasswordDocument,
  RevokeAllClientTokensDocument,
  RotateClientSecretDocument,
  TokensDocument,
  type OnAuditEventSubscription,
} from './generated/graphql.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { deviceFlowToken, gql } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { subscribe, type SseSubscription } from '../helpers/sse.js';

const REDIRECT_URI = 'http://127.0.0.1:9/admin-script/callback';

describe('the admin script (device-flow admin token, GraphQL over HTTP)', () => {
  let server: TestServer;
  let adminToken: string;
  let live: SseSubscription<OnAuditEventSubscription>;

  beforeAll(async () => {
    server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', RATE_LIMIT_REGISTRATION: '0', AUDIT_FLUSH_INTERVAL: '1' });
    adminToken = (await deviceFlowToken(server, { scope: 'admin' })).access_token;
    // The subscription is open for the whole script; each step then checks that its events arrived.
    live = await subscribe<OnAuditEventSubscription>(`${server.url}/graphql`, OnAuditEventDocument, {}, { authorization: `Bearer ${adminToken}` });
    expect(live.status).toBe(200);
  }, 30_000);
  afterAll(async () => {
    live?.close();
    await server?.close();
  });

  const asAdmin = <T, V>(doc: Parameters<typeof gql<T, V>>[1], variables?: V) => gql<T, V>(server, doc, variables, { token: adminToken });

  /** Asserts the event is in the log (queried with filters) and arrived on the subscription. */
  async function expectAudited(eventType: string, filter: { clientId?: string; search?: string } = {}) {
    const streamed = await live.waitFor((d) => d.auditEvents.eventType === eventType && (!filter.clientId || d.auditEvents.clientId === filter.clientId));
    await server.authgate.services.audit.flush();
    const queried = await asAdmin(AuditEventsDocument, { first: 10, filter: { types: [eventType], ...filter } });
    expect(queried.errors).toBeUndefined();
    const ids = queried.data!.auditEvents.edges.map((e) => e.node.id);
    expect(ids).toContain(streamed.auditEvents.id);
    return streamed.auditEvents;
  }

  async function introspect(token: string, client: { clientId: string; secret: string }) {
    const res = await postForm(`${server.url}/oauth/introspect`, { token }, { authorization: basic(client.clientId, client.secret) });
    return res;
  }

  /** The user signs in, opens the authorization request, allows it, and the client exchanges the code. */
  async function userAuthorizes(username: string, password: string, client: { clientId: string; secret: string }) {
    const browser = new ScriptedBrowser(server.url);
    expect((await browser.login(username, password)).status).toBe(302);
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile offline_access',
      state: 'st',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    let page = await browser.get(`/oauth/authorize?${query}`);
    if (page.status === 200) page = await browser.submit(page, '/oauth/authorize', { decision: 'approve' });
    expect(page.status).toBe(302);
    const code = new URL(page.location!).searchParams.get('code');
    expect(code).toBeTruthy();
    const tokens = await postForm(
      `${server.url}/oauth/token`,
      { grant_type: 'authorization_code', code: code!, redirect_uri: REDIRECT_URI, code_verifier: verifier },
      { authorization: basic(client.clientId, client.secret) },
    );
    expect(tokens.status).toBe(200);
    return tokens.json as { access_token: string; refresh_token: string };
  }

  test('create, authorize, list, disable, enable, reset, rotate, approve, revoke — each effective and audited', async () => {
    // 1. A confidential web app.
    const created = await asAdmin(CreateClientDocument, {
      input: { name: 'Admin script app', redirectUris: [REDIRECT_URI], allowedScopes: ['openid', 'profile', 'offline_access'], enableAuthCodeFlow: true },
    });
    expect(created.errors).toBeUndefined();
    const app = created.data!.createClient.client;
    let appCredentials = { clientId: app.clientId, secret: created.data!.createClient.clientSecret! };
    expect(appCredentials.secret).toBeTruthy();
    await expectAudited('CLIENT_CREATED', { clientId: app.clientId });

    // 2. A user with a generated password.
    const newUser = await asAdmin(CreateUserDocument, { input: { username: 'script-user', email: 'script-user@example.com' } });
    expect(newUser.errors).toBeUndefined();
    const user = newUser.data!.createUser.user;
    let password = newUser.data!.createUser.generatedPassword!;
    expect(password.length).toBeGreaterThanOrEqual(8);
    await expectAudited('USER_CREATED', { search: 'script-user' });

    // 3. The user signs in and authorizes the app (authorization code flow with PKCE).
    const first = await userAuthorizes('script-user', password, appCredentials);
    expect((await introspect(first.access_token, appCredentials)).json.active).toBe(true);
    await expectAudited('ACCESS_TOKEN_ISSUED', { clientId: app.clientId });

    // 4. The admin lists the user's tokens.
    const listed = await asAdmin(TokensDocument, { first: 10, filter: { userId: user.id, status: 'ACTIVE' } });
    expect(listed.errors).toBeUndefined();
    expect(listed.data!.tokens.totalCount).toBe(2);
    expect(listed.data!.tokens.edges.map((e) => e.node.category).sort()).toEqual(['ACCESS', 'REFRESH']);
    expect(listed.data!.tokens.edges.every((e) => e.node.client.clientId === app.clientId && e.node.grantType === 'authorization_code')).toBe(true);

    // 5. Disabling the user ends their token at introspection; 6. enabling them does not bring it back.
    const disabled = await asAdmin(DisableUserDocument, { id: user.id });
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data!.disableUser.tokensRevoked).toBe(2);
    expect((await introspect(first.access_token, appCredentials)).json.active).toBe(false);
    await expectAudited('USER_DISABLED', { search: 'script-user' });
    expect((await asAdmin(EnableUserDocument, { id: user.id })).errors).toBeUndefined();
    expect((await introspect(first.access_token, appCredentials)).json.active).toBe(false);
    const refreshed = await postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: first.refresh_token }, { authorization: basic(appCredentials.clientId, appCredentials.secret) });
    expect(refreshed.json.error).toBe('invalid_grant');
    await expectAudited('USER_ENABLED');

    // 7. Password reset: the new password signs in, the old one no longer does.
    const reset = await asAdmin(ResetUserPasswordDocument, { id: user.id });
    expect(reset.errors).toBeUndefined();
    const oldPassword = password;
    password = reset.data!.resetUserPassword.password;
    expect((await new ScriptedBrowser(server.url).login('script-user', oldPassword)).status).not.toBe(302);
    const second = await userAuthorizes('script-user', password, appCredentials);
    await expectAudited('USER_PASSWORD_RESET');

    // 8. Rotating the client secret: the old secret stops working at once.
    const rotated = await asAdmin(RotateClientSecretDocument, { id: app.id });
    expect(rotated.errors).toBeUndefined();
    const oldCredentials = appCredentials;
    appCredentials = { clientId: app.clientId, secret: rotated.data!.rotateClientSecret.clientSecret! };
    expect((await introspect(second.access_token, oldCredentials)).status).toBe(401);
    expect((await introspect(second.access_token, appCredentials)).json.active).toBe(true);
    await expectAudited('CLIENT_SECRET_ROTATED', { clientId: app.clientId });

    // 9. A pending dynamic registration: refused until approved, then it obtains tokens.
    const registered = await fetch(`${server.url}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Self-registered service', grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'profile' }),
    });
    expect(registered.status).toBe(201);
    const registration = (await registered.json()) as { client_id: string; client_secret: string };
    const cc = () => postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'profile' }, { authorization: basic(registration.client_id, registration.client_secret) });
    expect((await cc()).status).toBe(401);
    const pending = await asAdmin(ClientsDocument, { first: 10, filter: { status: 'PENDING' } });
    const pendingNode = pending.data!.clients.edges.find((e) => e.node.clientId === registration.client_id)!.node;
    expect((await asAdmin(ApproveClientDocument, { id: pendingNode.id })).data!.approveClient.client.approvalStatus).toBe('APPROVED');
    const serviceToken = await cc();
    expect(serviceToken.status).toBe(200);
    expect(serviceToken.json.access_token).toBeTruthy();
    await expectAudited('CLIENT_APPROVED', { clientId: registration.client_id });

    // 10. Revoke everything the app holds: the user's new tokens die too.
    const revokeAll = await asAdmin(RevokeAllClientTokensDocument, { id: app.id });
    expect(revokeAll.errors).toBeUndefined();
    expect(revokeAll.data!.revokeAllClientTokens.tokensRevoked).toBe(2);
    expect((await introspect(second.access_token, appCredentials)).json.active).toBe(false);
    const revokedEvent = await expectAudited('CLIENT_TOKENS_REVOKED', { clientId: app.clientId });
    expect(revokedEvent.severity).toBe('WARNING');
    expect(revokedEvent.actorUsername).toBe('admin');
    const afterRevoke = await asAdmin(TokensDocument, { first: 10, filter: { clientId: app.id, status: 'ACTIVE' } });
    expect(afterRevoke.data!.tokens.totalCount).toBe(0);

    // The log can also be narrowed by severity and actor; every admin action of the script is there.
    const adminRow = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
    const adminActions = await asAdmin(AuditEventsDocument, { first: 100, filter: { actorId: encodeGlobalID('User', adminRow.id), severities: ['WARNING'] } });
    expect(adminActions.data!.auditEvents.edges.some((e) => e.node.eventType === 'CLIENT_TOKENS_REVOKED')).toBe(true);
    expect(adminActions.data!.auditEvents.edges.every((e) => e.node.severity === 'WARNING' && e.node.actorUsername === 'admin')).toBe(true);
  }, 90_000);
});

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
