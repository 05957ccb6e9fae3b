// The admin clients pages over real HTTP, as a scripted person uses them (forms, redirects, cookies, no
// script): list with pending registrations first, create with the secret shown once, edit, rotate,
// approve/reject, revoke all, the users who authorized a client, delete. Effects are checked through
// the GraphQL API and the token endpoint, not the database.
import { findForm, ScriptedBrowser, type Page } from '../helpers/browser.js';
import { createIntrospector, isActive } from '../helpers/grants.js';
import { clientCredentialsToken, deviceFlowToken, gql, signedInBrowser } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ClientAuthorizationsDocument, ClientDocument, ClientsDocument, CreateClientDocument, CreateUserDocument } from '../graphql/generated/graphql.js';

let server: TestServer;
let admin: ScriptedBrowser;
let adminToken: string;
let member: { username: string; password: string };

const globalId = (id: string) => Buffer.from(`Client:${id}`).toString('base64');
const rawIdOf = (gid: string) => Buffer.from(gid, 'base64').toString().split(':')[1]!;

beforeAll(async () => {
  // Open registration: self-registered clients wait for an administrator.
  server = await startTestServer({ ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true', RATE_LIMIT_REGISTRATION: '0' });
  admin = await signedInBrowser(server);
  adminToken = (await deviceFlowToken(server, { scope: 'admin' })).access_token;
  const created = await gql(server, CreateUserDocument, { input: { username: 'member', fullName: 'Mem Ber', email: 'member@example.com' } }, { token: adminToken });
  member = { username: 'member', password: created.data!.createUser.generatedPassword! };
});
afterAll(() => server.close());

/** The API's view of a client, as the admin (null when it does not exist). */
async function apiClient(rawId: string) {
  const res = await gql(server, ClientDocument, { id: globalId(rawId) }, { token: adminToken });
  return res.data?.client ?? null;
}

async function clientCount(): Promise<number> {
  return (await gql(server, ClientsDocument, { first: 1 }, { token: adminToken })).data!.clients.totalCount;
}

/** A client made through the API (not the pages), for tests about other routes. */
async function makeClient(input: Record<string, unknown> = {}) {
  const res = await gql(
    server,
    CreateClientDocument,
    { input: { name: 'Fixture', clientType: 'CONFIDENTIAL', enableAuthCodeFlow: false, enableClientCredentials: true, allowedScopes: ['read'], ...input } },
    { token: adminToken },
  );
  const { client, clientSecret } = res.data!.createClient;
  return { id: rawIdOf(client.id), clientId: client.clientId, secret: clientSecret ?? undefined, name: client.name };
}

/** A self-registration (RFC 7591) without an initial access token: it waits for an administrator. */
async function register(name: string): Promise<string> {
  const res = await fetch(`${server.url}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: name, grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], token_endpoint_auth_method: 'none', scope: 'openid profile' }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

/** Posts exactly `fields` (repeated names allowed, unlike a checkbox form read as a record) with the page form's CSRF token. */
async function postForm2(browser: ScriptedBrowser, page: Page, action: string, fields: [string, string][]): Promise<Page> {
  const { _csrf } = findForm(page.html, action).hidden;
  const res = await browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([['_csrf', _csrf!], ...fields]).toString(),
  });
  return { status: res.status, url: action, html: await res.text(), location: res.headers.get('location') ?? undefined };
}

/** The text of the field error shown for `name`. */
function fieldError(html: string, name: string): string | undefined {
  return new RegExp(`<p class="field-error" id="e-${name}">([^<]*)</p>`).exec(html)?.[1];
}

function secrets(html: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const m of html.matchAll(/<div class="secret"[\s\S]*?<label[^>]*>([^<]*)<\/label>[\s\S]*?value="([^"]*)"/g)) found[m[1]!] = m[2]!;
  return found;
}

const confidentialForm = (name: string): [string, string][] => [
  ['name', name],
  ['description', 'Nightly export job'],
  ['clientType', 'confidential'],
  ['redirectUris', ''],
  ['allowedScopes', 'read'],
  ['allowedScopes', 'write'],
  ['enableClientCredentials', 'on'],
  ['tokenProfile', 'short'],
  ['active', 'on'],
];

describe('list', () => {
  test('shows every client with its columns and the total; filters narrow it', async () => {
    await makeClient({ name: 'Listed public app', clientType: 'PUBLIC', enableClientCredentials: false, enableDeviceFlow: true });
    const page = await admin.get('/admin/clients');
    expect(page.status).toBe(200);
    expect(page.html).toContain('AuthGate CLI');
    expect(page.html).toContain('Listed public app');
    expect(page.html).toMatch(/<th>client_id<\/th>[\s\S]*<th>Flows<\/th>[\s\S]*<th>Status<\/th>[\s\S]*<th>Active tokens<\/th>/);
    expect(page.html).toContain(`(${await clientCount()})`);

    const confidential = await admin.get('/admin/clients?type=confidential');
    expect(confidential.html).not.toContain('Listed public app');
    const search = await admin.get('/admin/clients?q=listed+PUBLIC');
    expect(search.html).toContain('Listed public app');
    expect(search.html).not.toContain('AuthGate CLI');
    expect(search.html).toContain('value="listed PUBLIC"');
    const inactive = await admin.get('/admin/clients?active=no');
    expect(inactive.html).toContain('No clients match.');
  });

  test('pages through many clients with the filters kept', async () => {
    for (let i = 0; i < 21; i++) await makeClient({ name: `Paged ${String(i).padStart(2, '0')}` });
    await register('Paged but pending');
    const first = await admin.get('/admin/clients?q=Paged');
    expect(first.html).toContain('Waiting for approval');
    expect(first.html).toContain('All other clients <span class="muted">(21)</span>');
    expect(first.html).toContain('Paged 00');
    expect(first.html).not.toContain('Paged 20');
    const next = /href="([^"]*after=[^"]*)"/.exec(first.html)![1]!.replace(/&amp;/g, '&');
    expect(next).toContain('q=Paged');
    const second = await admin.get(next);
    expect(second.html).toContain('Paged 20');
    expect(second.html).not.toContain('Paged 00');
    expect(second.html).toContain('Previous');
    // Pending registrations head the first page only.
    expect(second.html).not.toContain('Paged but pending');
    expect(second.html).toContain('All other clients');
  });

  test('with no registration waiting among the matches, the list is headed "Clients", not "All other clients"', async () => {
    await makeClient({ name: 'Lone heading probe' });
    const alone = await admin.get('/admin/clients?q=heading+probe');
    expect(alone.html).not.toContain('Waiting for approval');
    expect(alone.html).toContain('<h2 id="list-h">Clients <span class="muted">(1)</span></h2>');
    await register('Waiting heading probe');
    const both = await admin.get('/admin/clients?q=heading+probe');
    expect(both.html).toContain('Waiting for approval');
    expect(both.html).toContain('<h2 id="list-h">All other clients <span class="muted">(1)</span></h2>');
  });

  test('a bad filter is a readable 400 page', async () => {
    const page = await admin.get('/admin/clients?status=bogus');
    expect(page.status).toBe(400);
    expect(page.html).toContain('not a valid status filter');
    for (const query of ['type=robot', 'active=maybe', 'q=%00', `q=${'x'.repeat(201)}`, 'status=pending&status=approved', 'after=not-a-cursor', 'before=%25%25', 'after=Y3Vyc29yOg%3D%3D']) {
      const bad = await admin.get(`/admin/clients?${query}`);
      expect([query, bad.status]).toEqual([query, 400]);
      expect(bad.html).toContain('<h1>');
    }
    const badPage = await admin.get(`/admin/clients/${(await makeClient()).id}/authorizations?after=nonsense`);
    expect(badPage.status).toBe(400);
  });
});

describe('create', () => {
  test('a confidential client: the secret and client_id are shown once, and it obtains a token with client credentials', async () => {
    const form = await admin.get('/admin/clients/new');
    expect(form.status).toBe(200);
    for (const scope of ['openid', 'profile', 'email', 'offline_access', 'read', 'write', 'admin']) expect(form.html).toContain(`value="${scope}"`);
    const res = await postForm2(admin, form, '/admin/clients', confidentialForm('Backup job'));
    expect(res.status).toBe(302);
    const id = /^\/admin\/clients\/([0-9a-f-]+)$/.exec(res.location!)![1]!;

    const detail = await admin.follow(res);
    expect(detail.html).toContain('Client “Backup job” created.');
    const shown = secrets(detail.html);
    const client = (await apiClient(id))!;
    expect(shown['Client ID']).toBe(client.clientId);
    expect(shown['Client secret']).toMatch(/.{32,}/);
    expect(detail.html).toContain('data-copy="secret-2"');
    expect(client).toMatchObject({
      name: 'Backup job',
      description: 'Nightly export job',
      clientType: 'CONFIDENTIAL',
      allowedScopes: ['read', 'write'],
      enableClientCredentials: true,
      enableAuthCodeFlow: false,
      enableDeviceFlow: false,
      tokenProfile: 'SHORT',
      active: true,
      isServiceAccount: false,
      createdBy: { username: 'admin' },
    });

    // Once: a reload no longer has it.
    const again = await admin.get(`/admin/clients/${id}`);
    expect(again.html).not.toContain(shown['Client secret']!);
    expect(again.html).toContain(client.clientId);

    const token = await clientCredentialsToken(server, client.clientId, shown['Client secret']!, 'read');
    expect(token.status).toBe(200);
  });

  test('a public client with checkboxes as a browser sends them', async () => {
    const form = await admin.get('/admin/clients/new');
    const res = await postForm2(admin, form, '/admin/clients', [
      ['name', 'Phone app'],
      ['description', ''],
      ['clientType', 'public'],
      ['redirectUris', 'com.example.app:/cb   https://app.example.com/cb'],
      ['allowedScopes', 'openid'],
      ['allowedScopes', 'offline_access'],
      ['enableAuthCodeFlow', 'on'],
      ['enableDeviceFlow', 'on'],
      ['tokenProfile', 'long'],
    ]);
    expect(res.status).toBe(302);
    const detail = await admin.follow(res);
    expect(secrets(detail.html)).toEqual({});
    const client = (await apiClient(/([0-9a-f-]+)$/.exec(res.location!)![1]!))!;
    expect(client).toMatchObject({
      clientType: 'PUBLIC',
      hasSecret: false,
      redirectUris: ['com.example.app:/cb', 'https://app.example.com/cb'],
      allowedScopes: ['openid', 'offline_access'],
      enableDeviceFlow: true,
      enableAuthCodeFlow: true,
      tokenProfile: 'LONG',
      active: false,
    });
  });

  test('a bad redirect URI is shown next to its field with what was typed, and nothing is created', async () => {
    const before = await clientCount();
    const form = await admin.get('/admin/clients/new');
    const res = await postForm2(admin, form, '/admin/clients', [
      ['name', 'Broken app'],
      ['clientType', 'confidential'],
      ['redirectUris', 'https://ok.example.com/cb javascript:alert(1)'],
      ['allowedScopes', 'openid'],
      ['enableAuthCodeFlow', 'on'],
      ['tokenProfile', 'standard'],
    ]);
    expect(res.status).toBe(400);
    expect(fieldError(res.html, 'redirectUris')).toContain('cannot be redirect URIs');
    expect(res.html).toMatch(/id="f-redirectUris"[^>]*value="https:\/\/ok.example.com\/cb javascript:alert\(1\)"/);
    expect(res.html).toMatch(/id="f-name"[^>]*value="Broken app"/);
    expect(await clientCount()).toBe(before);
  });

  test.each([
    ['an empty name', 'name', [['name', ''], ['clientType', 'public'], ['tokenProfile', 'standard']]],
    ['an unknown scope', 'allowedScopes', [['name', 'x'], ['clientType', 'public'], ['allowedScopes', 'root'], ['tokenProfile', 'standard']]],
    ['client credentials on a public client', 'enableClientCredentials', [['name', 'x'], ['clientType', 'public'], ['enableClientCredentials', 'on'], ['tokenProfile', 'standard']]],
    ['a service account without client credentials', 'isServiceAccount', [['name', 'x'], ['clientType', 'confidential'], ['isServiceAccount', 'on'], ['tokenProfile', 'standard']]],
    ['an unknown client type', 'clientType', [['name', 'x'], ['clientType', 'secret'], ['tokenProfile', 'standard']]],
    ['an unknown token profile', 'tokenProfile', [['name', 'x'], ['clientType', 'public'], ['tokenProfile', 'forever']]],
  ] as [string, string, [string, string][]][])('%s: the message is next to %s and nothing is created', async (_what, field, fields) => {
    const before = await clientCount();
    const res = await postForm2(admin, await admin.get('/admin/clients/new'), '/admin/clients', fields);
    expect(res.status).toBe(400);
    expect(fieldError(res.html, field)).toBeTruthy();
    expect(await clientCount()).toBe(before);
  });
});

describe('detail and edit', () => {
  test('the detail page shows every setting, the creator and the active token count', async () => {
    const c = await makeClient({ name: 'Shown app', description: 'Shows things', allowedScopes: ['read', 'write'] });
    await clientCredentialsToken(server, c.clientId, c.secret!, 'read');
    const page = await admin.get(`/admin/clients/${c.id}`);
    expect(page.status).toBe(200);
    for (const text of ['Shown app', 'Shows things', c.clientId, 'Client credentials', 'Confidential', 'Standard', 'admin', 'Approved', '>read<', '>write<']) expect(page.html).toContain(text);
    expect(page.html).toMatch(/<div class="n">1<\/div><div class="muted">active token</);
    for (const action of ['rotate-secret', 'revoke-all']) expect(page.html).toContain(`action="/admin/clients/${c.id}/${action}"`);
    expect(page.html).toContain(`href="/admin/clients/${c.id}/edit"`);
    expect(page.html).toContain(`href="/admin/clients/${c.id}/delete"`);
    expect(page.html).toContain(`href="/admin/clients/${c.id}/authorizations"`);
  });

  test.each([
    ['an unknown id', '/admin/clients/00000000-0000-4000-8000-000000000000'],
    ['a malformed id', "/admin/clients/not%20an'id"],
    ['a too long id', `/admin/clients/${'a'.repeat(300)}`],
    ['an unknown id (edit)', '/admin/clients/00000000-0000-4000-8000-000000000000/edit'],
    ['an unknown id (delete)', '/admin/clients/00000000-0000-4000-8000-000000000000/delete'],
    ['an unknown id (authorizations)', '/admin/clients/00000000-0000-4000-8000-000000000000/authorizations'],
    ['a malformed id (authorizations)', '/admin/clients/%00/authorizations'],
  ])('%s is a 404 page', async (_what, path) => {
    const page = await admin.get(path);
    expect(page.status).toBe(404);
    expect(page.html).toContain('<h1>Not found</h1>');
  });

  test('edit shows the current settings and saves every one of them', async () => {
    const c = await makeClient({ name: 'Editable', description: 'before' });
    const form = await admin.get(`/admin/clients/${c.id}/edit`);
    expect(form.status).toBe(200);
    expect(form.html).toMatch(/id="f-name"[^>]*value="Editable"/);
    expect(form.html).toMatch(/id="f-enableClientCredentials"[^>]*checked/);
    expect(form.html).toMatch(/id="scope-read"[^>]*checked/);
    expect(form.html).not.toMatch(/id="scope-write"[^>]*checked/);

    const res = await postForm2(admin, form, `/admin/clients/${c.id}/update`, [
      ['name', 'Edited'],
      ['description', 'after'],
      ['clientType', 'confidential'],
      ['redirectUris', 'https://edited.example.com/cb'],
      ['allowedScopes', 'openid'],
      ['allowedScopes', 'write'],
      ['enableAuthCodeFlow', 'on'],
      ['enableDeviceFlow', 'on'],
      ['enableClientCredentials', 'on'],
      ['isServiceAccount', 'on'],
      ['tokenProfile', 'long'],
    ]);
    expect(res.status).toBe(302);
    expect(res.location).toBe(`/admin/clients/${c.id}`);
    expect((await admin.follow(res)).html).toContain('Client “Edited” saved.');
    expect(await apiClient(c.id)).toMatchObject({
      name: 'Edited',
      description: 'after',
      redirectUris: ['https://edited.example.com/cb'],
      allowedScopes: ['openid', 'write'],
      enableAuthCodeFlow: true,
      enableDeviceFlow: true,
      enableClientCredentials: true,
      isServiceAccount: true,
      tokenProfile: 'LONG',
      active: false,
    });
  });

  test('a refused edit shows the message next to the field, keeps what was typed and changes nothing', async () => {
    const c = await makeClient({ name: 'Kept' });
    const res = await postForm2(admin, await admin.get(`/admin/clients/${c.id}/edit`), `/admin/clients/${c.id}/update`, [
      ['name', 'Renamed'],
      ['clientType', 'public'],
      ['enableClientCredentials', 'on'],
      ['tokenProfile', 'standard'],
      ['active', 'on'],
    ]);
    expect(res.status).toBe(400);
    expect(fieldError(res.html, 'enableClientCredentials')).toContain('confidential');
    expect(res.html).toMatch(/id="f-name"[^>]*value="Renamed"/);
    expect(await apiClient(c.id)).toMatchObject({ name: 'Kept', clientType: 'CONFIDENTIAL' });
  });

  test('turning a public client confidential shows its new secret once', async () => {
    const c = await makeClient({ name: 'Going private', clientType: 'PUBLIC', enableClientCredentials: false, enableDeviceFlow: true });
    const res = await postForm2(admin, await admin.get(`/admin/clients/${c.id}/edit`), `/admin/clients/${c.id}/update`, [
      ['name', 'Going private'],
      ['clientType', 'confidential'],
      ['allowedScopes', 'read'],
      ['enableClientCredentials', 'on'],
      ['tokenProfile', 'standard'],
      ['active', 'on'],
    ]);
    const secret = secrets((await admin.follow(res)).html)['Client secret']!;
    expect(secret).toBeTruthy();
    expect((await clientCredentialsToken(server, c.clientId, secret, 'read')).status).toBe(200);
  });
});

describe('one-button actions', () => {
  test('rotate secret: the new one is shown once and works, the old one fails at once', async () => {
    const c = await makeClient({ name: 'Rotated' });
    expect((await clientCredentialsToken(server, c.clientId, c.secret!, 'read')).status).toBe(200);
    const detail = await admin.get(`/admin/clients/${c.id}`);
    const res = await admin.submit(detail, `/admin/clients/${c.id}/rotate-secret`, {});
    expect(res.status).toBe(302);
    const after = await admin.follow(res);
    expect(after.html).toContain('New secret for “Rotated”.');
    const fresh = secrets(after.html)['New client secret']!;
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(c.secret);
    const old = await clientCredentialsToken(server, c.clientId, c.secret!, 'read');
    expect(old.status).toBe(401);
    expect(old.error).toBe('invalid_client');
    expect((await clientCredentialsToken(server, c.clientId, fresh, 'read')).status).toBe(200);
  });

  test('revoke all: asks first, then every token of the client stops working', async () => {
    const c = await makeClient({ name: 'Revoked app' });
    const token = (await clientCredentialsToken(server, c.clientId, c.secret!, 'read')).token!;
    const rs = await createIntrospector(server);
    expect(await isActive(server, rs, token)).toBe(true);
    const detail = await admin.get(`/admin/clients/${c.id}`);
    expect(detail.html).toMatch(new RegExp(`action="/admin/clients/${c.id}/revoke-all"[^>]*data-confirm="Revoke every token`));
    const after = await admin.follow(await admin.submit(detail, `/admin/clients/${c.id}/revoke-all`, {}));
    expect(after.html).toContain('Revoked 1 token and 0 authorizations of “Revoked app”');
    expect(await isActive(server, rs, token)).toBe(false);
    expect((await apiClient(c.id))!.activeTokenCount).toBe(0);
  });

  test('approve and reject refuse a client that is not pending, with the reason as a message', async () => {
    const c = await makeClient({ name: 'Already approved' });
    const res = await admin.post(`/admin/clients/${c.id}/approve`, { _csrf: findForm((await admin.get(`/admin/clients/${c.id}`)).html, `/admin/clients/${c.id}/revoke-all`).hidden._csrf! });
    expect(res.status).toBe(302);
    expect((await admin.follow(res)).html).toMatch(/class="flash error"[^>]*>This client is not awaiting approval/);
  });
});

describe('pending dynamic registrations', () => {
  const startDevice = (clientId: string) => postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: 'openid' });

  test('appear first, under "Waiting for approval"; approved from the list, the client obtains tokens', async () => {
    const clientId = await register('Aardvark self-registered');
    expect((await startDevice(clientId)).status).toBe(401);
    const list = await admin.get('/admin/clients');
    const waiting = list.html.indexOf('Waiting for approval');
    const rest = list.html.indexOf('All other clients');
    expect(waiting).toBeGreaterThan(0);
    expect(rest).toBeGreaterThan(waiting);
    const at = list.html.indexOf(clientId);
    expect(at).toBeGreaterThan(waiting);
    expect(at).toBeLessThan(rest);
    // Not repeated in the rest of the list.
    expect(list.html.indexOf(clientId, rest)).toBe(-1);

    const row = /<tr>(?:(?!<\/tr>)[\s\S])*?<\/tr>/g;
    const mine = [...list.html.matchAll(row)].find((m) => m[0].includes(clientId))![0];
    const approveUrl = /action="(\/admin\/clients\/[^"]+\/approve)"/.exec(mine)![1]!;
    const res = await admin.submit(list, approveUrl, {});
    expect(res.status).toBe(302);
    expect(res.location).toBe('/admin/clients');
    const after = await admin.follow(res);
    expect(after.html).toContain('“Aardvark self-registered” approved');
    expect(after.html.indexOf(clientId)).toBeGreaterThan(after.html.indexOf('id="list-h"'));
    expect((await startDevice(clientId)).status).toBe(200);
  });

  test('rejected from the detail page, the client stays unable to obtain tokens', async () => {
    const clientId = await register('Rejected self-registered');
    const list = await admin.get('/admin/clients?status=pending');
    expect(list.html).toContain(clientId);
    const id = new RegExp(`href="/admin/clients/([0-9a-f-]+)">Rejected self-registered`).exec(list.html)![1]!;
    const detail = await admin.get(`/admin/clients/${id}`);
    expect(detail.html).toContain('waiting for approval');
    const after = await admin.follow(await admin.submit(detail, `/admin/clients/${id}/reject`, {}));
    expect(after.html).toContain('“Rejected self-registered” rejected.');
    expect((await apiClient(id))!.approvalStatus).toBe('REJECTED');
    expect((await startDevice(clientId)).status).toBe(401);
  });
});

describe('authorized users', () => {
  test('lists the users in force, newest first; revoking one ends their tokens and removes them', async () => {
    const c = await makeClient({ name: 'Device app', clientType: 'PUBLIC', enableClientCredentials: false, enableDeviceFlow: true, allowedScopes: ['openid', 'profile', 'read'] });
    const memberTokens = await deviceFlowToken(server, { scope: 'openid read', clientId: c.clientId, ...member });
    await deviceFlowToken(server, { scope: 'profile', clientId: c.clientId });
    const page = await admin.get(`/admin/clients/${c.id}/authorizations`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Users who authorized Device app');
    const memberAt = page.html.indexOf('>member<');
    const adminAt = page.html.indexOf('>admin</a>', page.html.indexOf('<tbody>'));
    expect(adminAt).toBeGreaterThan(0);
    expect(memberAt).toBeGreaterThan(adminAt); // admin authorized last
    expect(page.html).toContain('Mem Ber');
    expect(page.html).toContain('member@example.com');

    const rs = await createIntrospector(server);
    expect(await isActive(server, rs, memberTokens.access_token)).toBe(true);
    const row = [...page.html.matchAll(/<tr>(?:(?!<\/tr>)[\s\S])*?<\/tr>/g)].find((m) => m[0].includes('>member<'))![0];
    const revokeUrl = /action="([^"]+\/revoke)"/.exec(row)![1]!;
    expect(row).toContain('data-confirm=');
    const res = await admin.submit(page, revokeUrl, {});
    expect(res.location).toBe(`/admin/clients/${c.id}/authorizations`);
    const after = await admin.follow(res);
    expect(after.html).toMatch(/Authorization of member revoked \([12] tokens? ended\)\./);
    expect(after.html).not.toContain('>member<');
    expect(after.html).toContain('>admin</a>');
    expect(await isActive(server, rs, memberTokens.access_token)).toBe(false);
    const api = await gql(server, ClientAuthorizationsDocument, { id: globalId(c.id), first: 10 }, { token: adminToken });
    expect(api.data!.client!.authorizations.edges.map((e) => e.node.user.username)).toEqual(['admin']);
  });

  test('a malformed authorization id is a 404 page', async () => {
    const c = await makeClient();
    const detail = await admin.get(`/admin/clients/${c.id}`);
    const { _csrf } = findForm(detail.html, `/admin/clients/${c.id}/revoke-all`).hidden;
    const res = await admin.post(`/admin/clients/${c.id}/authorizations/x.y/revoke`, { _csrf: _csrf! });
    expect(res.status).toBe(404);
  });
});

describe('delete', () => {
  test('a confirmation page says what goes; the post deletes and the client is gone', async () => {
    const c = await makeClient({ name: 'Doomed' });
    const confirm = await admin.get(`/admin/clients/${c.id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('Delete Doomed?');
    expect(confirm.html).toContain(c.clientId);
    const res = await admin.submit(confirm, `/admin/clients/${c.id}/delete`, {});
    expect(res.status).toBe(302);
    expect(res.location).toBe('/admin/clients');
    expect((await admin.follow(res)).html).toContain('Client “Doomed” deleted');
    expect(await apiClient(c.id)).toBeNull();
    expect((await admin.get(`/admin/clients/${c.id}`)).status).toBe(404);
    expect((await clientCredentialsToken(server, c.clientId, c.secret!, 'read')).status).toBe(401);
  });
});

describe('who may', () => {
  const gets = (id: string) => ['/admin/clients', '/admin/clients/new', `/admin/clients/${id}`, `/admin/clients/${id}/edit`, `/admin/clients/${id}/delete`, `/admin/clients/${id}/authorizations`];
  const posts = (id: string) => ['/admin/clients', `/admin/clients/${id}/update`, `/admin/clients/${id}/rotate-secret`, `/admin/clients/${id}/approve`, `/admin/clients/${id}/reject`, `/admin/clients/${id}/revoke-all`, `/admin/clients/${id}/delete`, `/admin/clients/${id}/authorizations/${id}/revoke`];

  test('a visitor is sent to sign in', async () => {
    const c = await makeClient({ name: 'Visited' });
    const visitor = new ScriptedBrowser(server.url);
    for (const path of gets(c.id)) {
      const page = await visitor.get(path);
      expect(page.status).toBe(302);
      expect(page.location).toBe(`/login?redirect=${encodeURIComponent(path)}`);
    }
    for (const path of posts(c.id)) {
      const page = await visitor.post(path, { name: 'x' });
      expect([302, 403]).toContain(page.status);
      if (page.status === 302) expect(page.location).toMatch(/^\/login/);
    }
    expect(await apiClient(c.id)).toMatchObject({ name: 'Visited' });
  });

  test('a signed-in user who is not an admin gets 403 everywhere and changes nothing', async () => {
    const c = await makeClient({ name: 'Guarded' });
    const user = await signedInBrowser(server, member.username, member.password);
    for (const path of gets(c.id)) {
      const page = await user.get(path);
      expect([path, page.status]).toEqual([path, 403]);
      expect(page.html).toContain('Only administrators');
    }
    // With a valid CSRF token of their own session.
    const { _csrf } = findForm((await user.get('/')).html, '/logout').hidden;
    for (const path of posts(c.id)) {
      const page = await user.post(path, { _csrf: _csrf!, name: 'Hijacked' });
      expect([path, page.status]).toEqual([path, 403]);
    }
    expect(await apiClient(c.id)).toMatchObject({ name: 'Guarded', approvalStatus: 'APPROVED' });
    expect((await clientCredentialsToken(server, c.clientId, c.secret!, 'read')).status).toBe(200);
  });

  test('an admin post without _csrf is 403 and nothing changes', async () => {
    const c = await makeClient({ name: 'Protected' });
    const before = await clientCount();
    const create = await admin.submit(await admin.get('/admin/clients/new'), '/admin/clients', { name: 'Forged', clientType: 'public', tokenProfile: 'standard' }, { dropCsrf: true });
    expect(create.status).toBe(403);
    expect(await clientCount()).toBe(before);
    for (const path of posts(c.id).slice(1)) {
      const page = await admin.post(path, { name: 'Forged', clientType: 'public', tokenProfile: 'standard' });
      expect([path, page.status]).toEqual([path, 403]);
      expect(page.html).toContain('This form has expired');
    }
    expect(await apiClient(c.id)).toMatchObject({ name: 'Protected', clientType: 'CONFIDENTIAL' });
    expect((await clientCredentialsToken(server, c.clientId, c.secret!, 'read')).status).toBe(200);
  });
});
