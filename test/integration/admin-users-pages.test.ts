// The admin users pages over real HTTP, as a scripted browser without JavaScript uses them: every
// route renders, every form works (post/redirect/get, the effect visible afterwards), bad input is
// shown next to its field, the API's guards are shown as its messages, and nobody but a signed-in
// administrator with the form's CSRF token changes anything.
import { randomUUID } from 'node:crypto';
import { hashPassword } from '../helpers/passwords.js';
import { findForm, ScriptedBrowser, type Page } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { deviceFlowToken, gql, signedInBrowser } from '../helpers/graphql.js';
import { postForm } from '../helpers/oauth.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: ScriptedBrowser;
let adminId = '';
let introspect: (token: string) => Promise<Record<string, unknown>>;
const db = () => server.authgate.db;

/** A user made directly (test setup); the pages under test are what changes them. */
async function seedUser(username: string, opts: { role?: 'user' | 'admin'; authSource?: string; active?: boolean } = {}) {
  return db().user.create({
    data: { username, role: opts.role ?? 'user', authSource: opts.authSource ?? 'local', active: opts.active ?? true, passwordHash: await hashPassword(`${username}-password`) },
  });
}

async function canLogIn(username: string, password: string): Promise<boolean> {
  return (await new ScriptedBrowser(server.url).login(username, password)).status === 302;
}

/** The user as the API shows it to the admin (a cookie-authenticated query). */
async function apiUser(id: string): Promise<Record<string, unknown> | null> {
  const res = await gql(server, `query($id: ID!) { user(id: $id) { username fullName email emailVerified role active } }`, { id: Buffer.from(`User:${id}`).toString('base64') }, { browser: admin });
  if (res.errors?.[0]?.extensions?.code === 'NOT_FOUND') return null;
  return res.data!.user as Record<string, unknown>;
}

/** The text of the field error shown under input `name`. */
function fieldError(page: Page, name: string): string | undefined {
  return new RegExp(`<p class="field-error" id="e-${name}">([^<]*)</p>`).exec(page.html)?.[1];
}

function flashes(page: Page): string[] {
  return [...page.html.matchAll(/<p class="flash (ok|error)" role="status">([^<]*)<\/p>/g)].map((m) => `${m[1]}: ${decode(m[2]!)}`);
}

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The secrets the layout shows once (label → value). */
function secrets(page: Page): string[] {
  return [...page.html.matchAll(/<input id="secret-\d+" type="text" readonly value="([^"]*)"/g)].map((m) => decode(m[1]!));
}

/** Submits the form for `action` found on `path`, follows the redirect, returns the final page. */
async function postVia(browser: ScriptedBrowser, path: string, action: string, fields: Record<string, string> = {}): Promise<{ posted: Page; page: Page }> {
  const posted = await browser.submit(await browser.get(path), action, fields);
  return { posted, page: await browser.follow(posted) };
}

beforeAll(async () => {
  server = await startTestServer();
  adminId = (await db().user.findUniqueOrThrow({ where: { username: 'admin' } })).id;
  admin = await signedInBrowser(server);
  const rs = await createClient(server, { type: 'confidential', authCode: false });
  introspect = async (token) => {
    const auth = `Basic ${Buffer.from(`${rs.clientId}:${rs.clientSecret}`).toString('base64')}`;
    return (await postForm(`${server.url}/oauth/introspect`, { token }, { authorization: auth })).json;
  };
}, 30_000);
afterAll(() => server?.close());

describe('who may open the pages', () => {
  test('a visitor is sent to sign in; a non-admin gets 403 on every admin users page and changes nothing', async () => {
    const target = await seedUser('target-of-guest');
    const anon = new ScriptedBrowser(server.url);
    for (const path of ['/admin/users', '/admin/users/new', `/admin/users/${target.id}`, `/admin/users/${target.id}/edit`]) {
      const res = await anon.get(path);
      expect(res.status).toBe(302);
      expect(res.location).toBe(`/login?redirect=${encodeURIComponent(path)}`);
    }
    expect((await anon.post(`/admin/users/${target.id}/disable`, {})).location).toMatch(/^\/login/);

    await seedUser('plain');
    const plain = await signedInBrowser(server, 'plain', 'plain-password');
    for (const path of ['/admin/users', '/admin/users/new', `/admin/users/${target.id}`, `/admin/users/${target.id}/edit`, `/admin/users/${target.id}/delete`, `/admin/users/${target.id}/connections`, `/admin/users/${target.id}/authorizations`]) {
      const res = await plain.get(path);
      expect(res.status).toBe(403);
      expect(res.html).toContain('Only administrators can open this page.');
    }
    // Even with a valid CSRF token of their own (taken from a form they can open), the post is refused.
    const home = await plain.get('/device');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(home.html)?.[1] ?? '';
    expect((await plain.post(`/admin/users/${target.id}/disable`, { _csrf: csrf })).status).toBe(403);
    expect((await plain.post('/admin/users', { _csrf: csrf, username: 'sneaky' })).status).toBe(403);
    expect((await apiUser(target.id))?.active).toBe(true);
    expect(await db().user.count({ where: { username: 'sneaky' } })).toBe(0);
    // The navigation does not offer admin sections to them.
    expect((await plain.get('/')).html).not.toContain('href="/admin/users"');
  });

  test('a post without _csrf is 403 and nothing changes', async () => {
    const user = await seedUser('csrf-target');
    const detail = `/admin/users/${user.id}`;
    for (const [path, action, fields] of [
      [detail, `${detail}/disable`, {}],
      [detail, `${detail}/reset-password`, {}],
      [detail, `${detail}/role`, { role: 'ADMIN' }],
      [`${detail}/edit`, detail, { fullName: 'Changed' }],
      [`${detail}/delete`, `${detail}/delete`, {}],
      ['/admin/users/new', '/admin/users', { username: 'csrf-new' }],
    ] as const) {
      const res = await admin.submit(await admin.get(path), action, fields, { dropCsrf: true });
      expect(res.status).toBe(403);
      expect(res.html).toContain('This form has expired or did not come from this site.');
    }
    expect(await apiUser(user.id)).toMatchObject({ active: true, role: 'USER', fullName: '' });
    expect(await canLogIn('csrf-target', 'csrf-target-password')).toBe(true);
    expect(await db().user.count({ where: { username: 'csrf-new' } })).toBe(0);
  });
});

describe('GET /admin/users', () => {
  test('lists users with their columns and a total; search and filters narrow it; links lead to the detail', async () => {
    const carol = await db().user.create({ data: { username: 'carol-list', fullName: 'Carol Listed', email: 'carol@list.example', role: 'admin' } });
    await seedUser('dora-list', { active: false });
    await seedUser('gh-list', { authSource: 'github' });

    const page = await admin.get('/admin/users');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Users</h1>');
    for (const heading of ['Username', 'Name', 'Email', 'Role', 'Status', 'Source', 'Last login', 'Active tokens']) expect(page.html).toContain(`>${heading}</th>`);
    expect(page.html).toContain(`<a href="/admin/users/${carol.id}">carol-list</a>`);
    expect(page.html).toContain('Carol Listed');
    expect(page.html).toContain('carol@list.example');
    const total = await db().user.count();
    expect(page.html).toContain(`${total} users.`);

    const search = await admin.get('/admin/users?q=CAROL');
    expect(search.html).toContain('carol-list');
    expect(search.html).not.toContain('dora-list');
    expect(search.html).toContain('1 user matches the filters.');
    expect((await admin.get('/admin/users?q=list.example')).html).toContain('carol-list'); // email
    expect((await admin.get('/admin/users?q=Listed')).html).toContain('carol-list'); // full name

    const disabled = await admin.get('/admin/users?status=disabled');
    expect(disabled.html).toContain('dora-list');
    expect(disabled.html).not.toContain('carol-list');
    expect(disabled.html).toMatch(/<option value="disabled" selected>/);
    const admins = await admin.get('/admin/users?role=ADMIN');
    expect(admins.html).toContain('carol-list');
    expect(admins.html).not.toContain('dora-list');
    const github = await admin.get('/admin/users?source=github');
    expect(github.html).toContain('gh-list');
    expect(github.html).not.toContain('carol-list');
    expect((await admin.get('/admin/users?q=nobody-like-this')).html).toContain('No users found.');
  });

  test('pages through many users with cursor links that keep the filters', async () => {
    await db().user.createMany({ data: Array.from({ length: 30 }, (_, i) => ({ username: `pager-${String(i).padStart(2, '0')}` })) });
    const first = await admin.get('/admin/users?q=pager-');
    expect(first.html).toContain('30 users match the filters.');
    expect(first.html).toContain('pager-00');
    expect(first.html).not.toContain('pager-29');
    const next = /href="(\/admin\/users\?q=pager-&amp;after=[^"]+)">Next/.exec(first.html)?.[1];
    expect(next).toBeDefined();
    const second = await admin.get(decode(next!));
    expect(second.status).toBe(200);
    expect(second.html).toContain('pager-29');
    expect(second.html).not.toContain('pager-00<');
    const previous = /href="([^"]+)">← Previous/.exec(second.html)?.[1];
    expect((await admin.get(decode(previous!))).html).toContain('pager-00');
  });

  test('a bad filter or cursor is a readable 400 page, not a 500', async () => {
    for (const path of ['/admin/users?role=OWNER', '/admin/users?status=maybe', '/admin/users?after=not-a-cursor']) {
      const res = await admin.get(path);
      expect(res.status).toBe(400);
      expect(res.html).toContain('<h1>Bad request</h1>');
    }
  });
});

describe('creating a user', () => {
  test('without a password: the generated one is shown once on the detail page, never again, and works at /login', async () => {
    const form = await admin.get('/admin/users/new');
    expect(form.status).toBe(200);
    for (const label of ['Username', 'Full name', 'Email', 'Role', 'Password']) expect(form.html).toContain(`>${label}</label>`);
    const posted = await admin.submit(form, '/admin/users', { username: 'newbie', fullName: 'New Bie', email: 'newbie@example.com', role: 'USER', password: '' });
    expect(posted.status).toBe(302);
    const id = /^\/admin\/users\/([0-9a-f-]+)$/.exec(posted.location ?? '')?.[1];
    expect(id).toBeDefined();

    const detail = await admin.follow(posted);
    expect(detail.status).toBe(200);
    expect(flashes(detail)).toEqual(['ok: User newbie created.']);
    const shown = secrets(detail);
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(detail.html).toContain('Password for newbie');
    expect(detail.html).toContain('data-copy="secret-1"');

    const reload = await admin.get(`/admin/users/${id}`);
    expect(secrets(reload)).toEqual([]);
    expect(reload.html).not.toContain(shown[0]);
    expect(await canLogIn('newbie', shown[0]!)).toBe(true);
    expect(await apiUser(id!)).toMatchObject({ username: 'newbie', fullName: 'New Bie', email: 'newbie@example.com', role: 'USER', active: true });
  });

  test('with a chosen password and the admin role: nothing is shown, the password works', async () => {
    const { posted, page } = await postVia(admin, '/admin/users/new', '/admin/users', { username: 'chosen', password: 'chosen-password-1', role: 'ADMIN' });
    expect(posted.status).toBe(302);
    expect(secrets(page)).toEqual([]);
    expect(page.html).toContain('<span class="badge warn">admin</span>');
    expect(await canLogIn('chosen', 'chosen-password-1')).toBe(true);
  });

  test('bad input is shown next to its field with what was typed (400); a taken username is shown on the form', async () => {
    const form = await admin.get('/admin/users/new');
    const badEmail = await admin.submit(form, '/admin/users', { username: 'typo', fullName: 'Typo Person', email: 'not-an-email' });
    expect(badEmail.status).toBe(400);
    expect(fieldError(badEmail, 'email')).toBe('&quot;not-an-email&quot; is not an email address.');
    expect(badEmail.html).toMatch(/id="f-email" name="email" type="email" value="not-an-email"[^>]*aria-invalid="true"/);
    expect(badEmail.html).toContain('value="Typo Person"');

    const badName = await admin.submit(form, '/admin/users', { username: ' bad name!' });
    expect(badName.status).toBe(400);
    expect(fieldError(badName, 'username')).toContain('A username is 1 to 64 letters');

    const shortPassword = await admin.submit(form, '/admin/users', { username: 'shorty', password: 'short' });
    expect(shortPassword.status).toBe(400);
    expect(fieldError(shortPassword, 'password')).toBe('A password is 8 to 128 characters.');
    expect(shortPassword.html).not.toContain('value="short"');

    const taken = await admin.submit(form, '/admin/users', { username: 'admin' });
    expect(taken.status).toBe(400);
    expect(taken.html).toContain('<p class="error" role="alert">A user with this username or email already exists.</p>');
    expect(await db().user.count({ where: { username: { in: ['typo', 'shorty'] } } })).toBe(0);
  });
});

describe('the user detail page', () => {
  let userId = '';
  let tokens: { access_token: string; refresh_token?: string };
  let userBrowser: ScriptedBrowser;
  let connectionId = '';

  beforeAll(async () => {
    userId = (await seedUser('detailed')).id;
    await db().user.update({ where: { id: userId }, data: { email: 'detailed@example.com', fullName: 'Dee Tailed' } });
    tokens = await deviceFlowToken(server, { scope: 'read offline_access', username: 'detailed', password: 'detailed-password' });
    userBrowser = await signedInBrowser(server, 'detailed', 'detailed-password');
    connectionId = (await db().oAuthConnection.create({ data: { userId, provider: 'github', providerUserId: '4242', displayName: 'dee-gh', email: 'dee@github.example' } })).id;
  }, 30_000);

  test('shows the properties, the active tokens, authorized apps, connections and browser sessions', async () => {
    const page = await admin.get(`/admin/users/${userId}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Dee Tailed');
    expect(page.html).toContain('detailed@example.com');
    expect(page.html).toContain('AuthGate CLI');
    expect(page.html).toMatch(/<h2 id="tokens">Active tokens <span class="muted">\(2\)<\/span><\/h2>/);
    expect(page.html).toMatch(/<h2 id="authorizations">Authorized apps <span class="muted">\(1\)<\/span><\/h2>/);
    expect(page.html).toContain('dee-gh');
    expect(page.html).toMatch(/<h2 id="sessions">Browser sessions <span class="muted">\(\d+\)<\/span><\/h2>/);
    expect(page.html).toContain(`href="/admin/users/${userId}/edit"`);
    expect(page.html).toContain(`href="/admin/users/${userId}/delete"`);
    expect(page.html).toContain(`action="/admin/users/${userId}/disable"`);
    expect(page.html).toContain(`action="/admin/users/${userId}/reset-password"`);
    expect(page.html).toContain(`action="/admin/users/${userId}/role"`);
  });

  test('the connections and authorizations pages list the same, and unlinking / revoking works from them', async () => {
    const connections = await admin.get(`/admin/users/${userId}/connections`);
    expect(connections.status).toBe(200);
    expect(connections.html).toContain('<h1>Connections of detailed</h1>');
    expect(connections.html).toContain('dee-gh');
    const unlinked = await admin.follow(await admin.submit(connections, `/admin/users/${userId}/connections/${connectionId}/delete`, {}));
    expect(unlinked.url).toMatch(/\/connections$/);
    expect(flashes(unlinked)).toEqual(['ok: Connection unlinked.']);
    expect(unlinked.html).toContain('No external sign-in provider is linked to detailed.');

    const apps = await admin.get(`/admin/users/${userId}/authorizations`);
    expect(apps.status).toBe(200);
    expect(apps.html).toContain('<h1>Apps authorized by detailed</h1>');
    expect(apps.html).toContain('AuthGate CLI');
    const action = /action="(\/admin\/users\/[^"]+\/authorizations\/[^"]+\/revoke)"/.exec(apps.html)?.[1];
    expect(action).toBeDefined();
    expect((await introspect(tokens.access_token)).active).toBe(true);
    const revoked = await admin.follow(await admin.submit(apps, action!, {}));
    expect(flashes(revoked)).toEqual(['ok: Access for AuthGate CLI withdrawn; 2 tokens revoked.']);
    expect(revoked.html).toContain('detailed has not authorized any app.');
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  test('unlinking from the detail page comes back to the detail page', async () => {
    const other = await db().oAuthConnection.create({ data: { userId, provider: 'gitea', providerUserId: '77', displayName: 'dee-gitea' } });
    const page = await admin.get(`/admin/users/${userId}`);
    expect(page.html).toContain('dee-gitea');
    const posted = await admin.submit(page, `/admin/users/${userId}/connections/${other.id}/delete`, {});
    expect(posted.location).toBe(`/admin/users/${userId}`);
    const after = await admin.follow(posted);
    expect(flashes(after)).toEqual(['ok: Connection unlinked.']);
    expect(after.html).not.toContain('dee-gitea');
    // Unlinking it again: the API's NOT_FOUND, shown as a message on the same page.
    const again = await admin.follow(await admin.post(`/admin/users/${userId}/connections/${other.id}/delete`, { _csrf: csrfOf(after), _back: `/admin/users/${userId}` }));
    expect(flashes(again)).toEqual(['error: no connection with this id']);
  });

  test('revoking a token from the detail page ends it', async () => {
    const fresh = await deviceFlowToken(server, { scope: 'read', username: 'detailed', password: 'detailed-password' });
    let page = await admin.get(`/admin/users/${userId}`);
    expect(page.html).toMatch(/<h2 id="tokens">Active tokens <span class="muted">\(2\)<\/span><\/h2>/);
    // The access token and its refresh token: revoking the refresh token first takes the access token along.
    for (let action = tokenAction(page); action; action = tokenAction(page)) {
      page = await admin.follow(await admin.submit(page, action, {}));
      expect(flashes(page)[0]).toMatch(/^ok: Token revoked\.|^ok: Token revoked, with 1 issued from it\.$/);
    }
    expect(page.html).toContain('No active tokens.');
    expect(await introspect(fresh.access_token)).toEqual({ active: false });
    expect(await introspect(fresh.refresh_token!)).toEqual({ active: false });
  });

  test('signing a browser session out ends it for that browser', async () => {
    expect((await userBrowser.get('/account/sessions')).status).not.toBe(302);
    const before = await gql(server, '{ viewer { username } }', {}, { browser: userBrowser });
    expect(before.data?.viewer).toEqual({ username: 'detailed' });
    let page = await admin.get(`/admin/users/${userId}`);
    // Sign out every session the user has, one by one.
    for (let action = /action="(\/admin\/users\/[^"]+\/sessions\/[^"]+\/revoke)"/.exec(page.html)?.[1]; action; action = /action="(\/admin\/users\/[^"]+\/sessions\/[^"]+\/revoke)"/.exec(page.html)?.[1]) {
      page = await admin.follow(await admin.submit(page, action, {}));
      expect(flashes(page)).toEqual(['ok: Browser session signed out.']);
    }
    expect(page.html).toContain('No browser session.');
    expect((await gql(server, '{ viewer { username } }', {}, { browser: userBrowser })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  test('an unknown or malformed id is a 404 page on every route', async () => {
    for (const id of [randomUUID(), 'not-a-user', '%E2%80%AE', 'a%2Fb', "x'%20or%201=1", 'x'.repeat(300)]) {
      for (const suffix of ['', '/edit', '/delete', '/connections', '/authorizations']) {
        const res = await admin.get(`/admin/users/${id}${suffix}`);
        expect([id, suffix, res.status]).toEqual([id, suffix, 404]);
        expect(res.html).toContain('<h1>Not found</h1>');
      }
    }
    const form = await admin.get(`/admin/users/${userId}`);
    const unknown = randomUUID();
    // A post for an unknown user: the API's refusal, shown on the list (the user has no page).
    const disable = await admin.post(`/admin/users/${unknown}/disable`, { _csrf: csrfOf(form) });
    expect(disable.location).toBe('/admin/users');
    expect(flashes(await admin.follow(disable))).toEqual(['error: no user with this id']);
    const deleted = await admin.post(`/admin/users/${unknown}/delete`, { _csrf: csrfOf(form) });
    expect(deleted.location).toBe('/admin/users');
    expect(flashes(await admin.follow(deleted))).toEqual(['error: no user with this id']);
    // A malformed id in a post is a 404 too.
    expect((await admin.post('/admin/users/bad%20id/disable', { _csrf: csrfOf(form) })).status).toBe(404);
  });
});

function tokenAction(page: Page): string | undefined {
  return /action="(\/admin\/users\/[^"]+\/tokens\/[^"]+\/revoke)"/.exec(page.html)?.[1];
}

function csrfOf(page: Page): string {
  return /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
}

describe('editing a user', () => {
  test('the form is prefilled; saving changes the user and goes back to the detail page', async () => {
    const user = await seedUser('editable');
    const form = await admin.get(`/admin/users/${user.id}/edit`);
    expect(form.status).toBe(200);
    expect(form.html).toContain('value="editable"');
    const saved = await admin.submit(form, `/admin/users/${user.id}`, { username: 'edited', fullName: 'Ed Ited', email: 'ed@example.com', emailVerified: 'on' });
    expect(saved.status).toBe(302);
    expect(saved.location).toBe(`/admin/users/${user.id}`);
    const detail = await admin.follow(saved);
    expect(flashes(detail)).toEqual(['ok: User edited saved.']);
    expect(await apiUser(user.id)).toMatchObject({ username: 'edited', fullName: 'Ed Ited', email: 'ed@example.com', emailVerified: true });

    // Unticking the box (a browser then sends no field at all) and emptying the email are changes too.
    const fields = findForm((await admin.get(`/admin/users/${user.id}/edit`)).html, `/admin/users/${user.id}`).hidden;
    delete fields.emailVerified;
    expect((await admin.post(`/admin/users/${user.id}`, { ...fields, email: '' })).status).toBe(302);
    expect(await apiUser(user.id)).toMatchObject({ email: null, emailVerified: false });
  });

  test('a bad email is shown next to the email field (400) and nothing is saved; a taken username is shown on the form', async () => {
    const user = await seedUser('edit-bad');
    const form = await admin.get(`/admin/users/${user.id}/edit`);
    const bad = await admin.submit(form, `/admin/users/${user.id}`, { email: 'nope', fullName: 'Typed Name' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad, 'email')).toBe('&quot;nope&quot; is not an email address.');
    expect(bad.html).toContain('value="Typed Name"');
    const taken = await admin.submit(form, `/admin/users/${user.id}`, { username: 'admin' });
    expect(taken.status).toBe(400);
    expect(taken.html).toContain('A user with this username or email already exists.');
    expect(await apiUser(user.id)).toMatchObject({ username: 'edit-bad', fullName: '', email: null });
  });
});

describe('role, disable and enable, with the guards', () => {
  test('promoting and demoting; demoting the last active admin is refused with the API message', async () => {
    const user = await seedUser('promote-me');
    const { page } = await postVia(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/role`, { role: 'ADMIN' });
    expect(flashes(page)).toEqual(['ok: promote-me is now an administrator.']);
    expect((await apiUser(user.id))?.role).toBe('ADMIN');
    const back = await postVia(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/role`, { role: 'USER' });
    expect(flashes(back.page)).toEqual(['ok: promote-me is now a user.']);

    // Make the seeded admin the only active administrator, then try to demote it.
    await db().user.updateMany({ where: { role: 'admin', id: { not: adminId } }, data: { role: 'user' } });
    const refused = await postVia(admin, `/admin/users/${adminId}`, `/admin/users/${adminId}/role`, { role: 'USER' });
    expect(refused.posted.status).toBe(302);
    expect(flashes(refused.page)).toEqual(['error: You cannot demote the last active administrator.']);
    expect((await apiUser(adminId))?.role).toBe('ADMIN');

    const badRole = await postVia(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/role`, { role: 'OWNER' });
    expect(flashes(badRole.page)).toEqual(['error: Choose a role: User or Administrator.']);
  });

  test('disabling yourself is refused with a readable message', async () => {
    const { page } = await postVia(admin, `/admin/users/${adminId}`, `/admin/users/${adminId}/disable`);
    expect(page.status).toBe(200);
    expect(flashes(page)).toEqual(['error: You cannot disable your own account.']);
    expect((await apiUser(adminId))?.active).toBe(true);
  });

  test("disabling a user ends their sessions and tokens (the API does it); enabling lets them sign in again", async () => {
    await seedUser('to-disable');
    const tokens = await deviceFlowToken(server, { scope: 'read', username: 'to-disable', password: 'to-disable-password' });
    const theirs = await signedInBrowser(server, 'to-disable', 'to-disable-password');
    const id = (await db().user.findUniqueOrThrow({ where: { username: 'to-disable' } })).id;

    const { posted, page } = await postVia(admin, `/admin/users/${id}`, `/admin/users/${id}/disable`);
    expect(posted.location).toBe(`/admin/users/${id}`);
    expect(flashes(page)[0]).toMatch(/^ok: to-disable is disabled: \d+ sessions? ended, 2 tokens revoked\.$/);
    expect(page.html).toContain('<span class="badge bad">disabled</span>');
    expect(page.html).toContain(`action="/admin/users/${id}/enable"`);
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    expect((await gql(server, '{ viewer { username } }', {}, { browser: theirs })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await canLogIn('to-disable', 'to-disable-password')).toBe(false);
    expect((await admin.get('/admin/users?status=disabled&q=to-disable')).html).toContain('to-disable');

    const enabled = await postVia(admin, `/admin/users/${id}`, `/admin/users/${id}/enable`);
    expect(flashes(enabled.page)).toEqual(['ok: to-disable can sign in again.']);
    expect(await canLogIn('to-disable', 'to-disable-password')).toBe(true);
  });
});

describe('resetting a password', () => {
  test('a local user gets a new password, shown once; the old one stops working', async () => {
    const user = await seedUser('forgetful');
    const { posted, page } = await postVia(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/reset-password`);
    expect(posted.location).toBe(`/admin/users/${user.id}`);
    expect(flashes(page)).toEqual(['ok: The password of forgetful was reset.']);
    const [password] = secrets(page);
    expect(password).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(secrets(await admin.get(`/admin/users/${user.id}`))).toEqual([]);
    expect(await canLogIn('forgetful', password!)).toBe(true);
    expect(await canLogIn('forgetful', 'forgetful-password')).toBe(false);
  });

  test('a user who signs in elsewhere has no reset button, and a forced post is refused with the reason', async () => {
    const user = await seedUser('from-github', { authSource: 'github' });
    const page = await admin.get(`/admin/users/${user.id}`);
    expect(page.html).not.toContain('/reset-password"');
    const res = await admin.post(`/admin/users/${user.id}/reset-password`, { _csrf: csrfOf(page) });
    const after = await admin.follow(res);
    expect(flashes(after)).toEqual(['error: This user signs in through "github"; their password is not kept here.']);
    expect(secrets(after)).toEqual([]);
  });
});

describe('deleting a user', () => {
  test('the confirmation page names the user; confirming deletes and returns to the list with a message', async () => {
    const user = await db().user.create({ data: { username: 'doomed', fullName: 'Doomed Person', email: 'doomed@example.com' } });
    const confirm = await admin.get(`/admin/users/${user.id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('<h1>Delete doomed?</h1>');
    expect(confirm.html).toContain('Doomed Person');
    expect(confirm.html).toContain('doomed@example.com');
    const posted = await admin.submit(confirm, `/admin/users/${user.id}/delete`, {});
    expect(posted.location).toBe('/admin/users');
    const list = await admin.follow(posted);
    expect(flashes(list)).toEqual(['ok: User doomed deleted, with their tokens, sessions, authorizations and connections.']);
    expect(list.html).not.toContain('>doomed<');
    expect(await apiUser(user.id)).toBeNull();
    expect((await admin.get(`/admin/users/${user.id}`)).status).toBe(404);
  });

  test('deleting yourself is refused with the API message', async () => {
    const confirm = await admin.get(`/admin/users/${adminId}/delete`);
    expect(confirm.html).toContain('This is your own account');
    const posted = await admin.submit(confirm, `/admin/users/${adminId}/delete`, {});
    expect(posted.location).toBe(`/admin/users/${adminId}`);
    expect(flashes(await admin.follow(posted))).toEqual(['error: You cannot delete your own account.']);
    expect(await apiUser(adminId)).not.toBeNull();
  });
});

test('the admin password used by these tests still signs in (nothing above locked the admin out)', async () => {
  expect(await canLogIn('admin', ADMIN_PASSWORD)).toBe(true);
});
