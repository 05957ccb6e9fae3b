// The account pages over real HTTP, as a person without script uses them: tokens grouped by app and
// sign-in and revoking them (one, one app's, all), authorized apps and revoking one (its token stops
// working at introspection), browser sessions, and changing the password. Effects are checked through
// the API, introspection and the pages; the database only sets the scene.
import { sha256Hex } from '../../src/domain/crypto.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser, type Page } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { createIntrospector, isActive, type Introspector } from '../helpers/grants.js';
import { deviceFlowToken, gql, signedInBrowser, type DeviceTokens } from '../helpers/graphql.js';
import { ADMIN_PASSWORD, SESSION_STORES, startTestServer, type TestServer } from '../helpers/server.js';
import { MyAccountDocument } from '../graphql/generated/graphql.js';

const PASSWORD = 'account-pages-password-1';

// Browser sessions in each store (SESSION_STORE): the database, and Redis when TEST_REDIS_URL is set.
describe.each(SESSION_STORES)('account pages (sessions in %s)', (sessionStore) => {
  let server: TestServer;
  let rs: Introspector;
  let tvClientId: string;

  beforeAll(async () => {
    server = await startTestServer({ SESSION_STORE: sessionStore });
    const db = server.authgate.db;
    for (const username of ['alice', 'bob', 'pat', 'tim', 'sam', 'una']) await db.user.create({ data: { username, passwordHash: await hashPassword(PASSWORD) } });
    // Signs in here with a password in this test, but its account belongs to another sign-in source.
    await db.user.create({ data: { username: 'ldap-lee', authSource: 'ldap', passwordHash: await hashPassword(PASSWORD) } });
    rs = await createIntrospector(server);
    tvClientId = (await createClient(server, { type: 'public', device: true, name: 'Living-room TV' })).clientId;
  }, 30_000);
  afterAll(() => server.close());

  const signIn = (username: string, password = PASSWORD) => signedInBrowser(server, username, password);
  const deviceToken = (username: string, clientId?: string) => deviceFlowToken(server, { scope: 'read offline_access', username, password: PASSWORD, clientId });
  const rowId = async (value: string) => (await server.authgate.db.token.findUniqueOrThrow({ where: { tokenHash: sha256Hex(value) } })).id;
  const clientRowId = async (clientId: string) => (await server.authgate.db.oAuthClient.findUniqueOrThrow({ where: { clientId } })).id;
  const bothActive = async (t: DeviceTokens) => [await isActive(server, rs, t.access_token), await isActive(server, rs, t.refresh_token!)];
  const flashes = (page: Page) => [...page.html.matchAll(/<p class="flash (\w+)" role="status">([^<]*)<\/p>/g)].map((m) => `${m[1]}: ${decode(m[2]!)}`);
  /** Posts a form found on the page (its hidden fields and CSRF token), then renders where it redirects. */
  const submitAndFollow = async (browser: ScriptedBrowser, page: Page, action: string, fields: Record<string, string> = {}) => {
    const posted = await browser.submit(page, action, fields);
    expect(posted.status).toBe(302);
    return browser.follow(posted);
  };

  test('a visitor who is not signed in is sent to sign in, from every page and every form', async () => {
    const visitor = new ScriptedBrowser(server.url);
    for (const path of ['/account', '/account/sessions', '/account/authorizations', '/account/authorizations/x/revoke', '/account/browser-sessions', '/account/password']) {
      const page = await visitor.get(path);
      expect([path, page.status, page.location]).toEqual([path, 302, `/login?redirect=${encodeURIComponent(path)}`]);
    }
    for (const path of ['/account/sessions/x/revoke', '/account/sessions/revoke-all', '/account/authorizations/x/revoke', '/account/browser-sessions/x/revoke', '/account/browser-sessions/revoke-others', '/account/password']) {
      const page = await visitor.post(path, {});
      expect([path, page.status]).toEqual([path, 302]);
      expect(page.location).toMatch(/^\/login\?redirect=%2Faccount%2F/);
    }
  });

  test('/account opens the sessions page; every account page has the account navigation with its own entry marked', async () => {
    const browser = await signIn('sam');
    const home = await browser.get('/account');
    expect([home.status, home.location]).toEqual([302, '/account/sessions']);
    for (const [path, heading] of [
      ['/account/sessions', 'Active sessions'],
      ['/account/authorizations', 'Authorized apps'],
      ['/account/browser-sessions', 'Browser sessions'],
      ['/account/password', 'Change password'],
    ] as const) {
      const page = await browser.get(path);
      expect([path, page.status]).toEqual([path, 200]);
      expect(page.html).toContain(`<h1>${heading}</h1>`);
      expect(page.html).toContain('<nav class="subnav" aria-label="Account">');
      expect(page.html).toContain(`<a href="${path}" aria-current="page">`);
      expect(page.html.match(/aria-current="page"/g)).toHaveLength(2); // the main navigation's "Account" and this page's entry
    }
    // A cursor that is not one: a readable refusal, not a 500.
    for (const path of ['/account/sessions?after=not-a-cursor', '/account/authorizations?before=%FF', '/account/browser-sessions?after=x']) {
      const page = await browser.get(path);
      expect([path, page.status]).toEqual([path, 400]);
    }
    expect((await browser.get('/account/sessions')).html).toContain('No app holds a working token for you.');
    expect((await browser.get('/account/authorizations')).html).toContain('You have not authorized any app.');
  });

  test('sessions: tokens by app and sign-in; revoke one token, one sign-in, one app’s, then all; other users’ tokens and the consents stay', async () => {
    const cli1 = await deviceToken('alice');
    const cli2 = await deviceToken('alice');
    const tv = await deviceToken('alice', tvClientId);
    const bobs = await deviceToken('bob', tvClientId);
    const browser = await signIn('alice');

    let page = await browser.get('/account/sessions');
    expect(page.status).toBe(200);
    const apps = [...page.html.matchAll(/<h2 id="app-\d+">([^<]*) <span class="count">([^<]*)<\/span><\/h2>/g)].map((m) => [decode(m[1]!), m[2]]);
    // Newest first: the TV sign-in was the last one.
    expect(apps).toEqual([
      ['Living-room TV', '2 tokens · 1 sign-in'],
      ['AuthGate CLI', '4 tokens · 2 sign-ins'],
    ]);
    expect(page.html.match(/<h3 id="signin-[^"]*">Device code /g)).toHaveLength(3);
    expect(page.html).toContain('<code>offline_access</code>');

    // One access token: its refresh token (and the other sign-ins) keep working.
    const accessId = await rowId(cli1.access_token);
    page = await submitAndFollow(browser, page, `/account/sessions/${accessId}/revoke`);
    expect(flashes(page)).toEqual(['ok: Access token of AuthGate CLI revoked.']);
    expect(await bothActive(cli1)).toEqual([false, true]);
    expect(await bothActive(cli2)).toEqual([true, true]);
    // The same form posted again (a second tab): nothing left to end, and said so.
    const again = await browser.post(`/account/sessions/${accessId}/revoke`, { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]! });
    page = await browser.follow(again);
    expect(flashes(page)).toEqual(['ok: That access token had already stopped working.']);

    // "End this sign-in": its refresh token, which takes the family along.
    const refreshId = await rowId(cli1.refresh_token!);
    page = await submitAndFollow(browser, page, `/account/sessions/${refreshId}/revoke`);
    expect(flashes(page)).toEqual(['ok: Refresh token of AuthGate CLI revoked.']);
    expect(await bothActive(cli1)).toEqual([false, false]);
    expect(page.html).not.toContain(`/account/sessions/${refreshId}/revoke`);

    // Everything of one app: the per-app form carries the client.
    const tvRow = await clientRowId(tvClientId);
    const perApp = [...page.html.matchAll(/<form method="post" action="\/account\/sessions\/revoke-all"[^>]*>([\s\S]*?)<\/form>/g)].find((f) => f[1]!.includes(`value="${tvRow}"`));
    expect(perApp).toBeDefined();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(perApp![1]!)![1]!;
    page = await browser.follow(await browser.post('/account/sessions/revoke-all', { _csrf: csrf, client: tvRow, clientName: 'Living-room TV' }));
    expect(flashes(page)).toEqual(['ok: Revoked 2 tokens of Living-room TV.']);
    expect(await bothActive(tv)).toEqual([false, false]);
    expect(await bothActive(cli2)).toEqual([true, true]);
    expect(await bothActive(bobs)).toEqual([true, true]);
    expect(page.html).not.toContain('Living-room TV</h2>');

    // All the rest (the first revoke-all form on the page is the one for everything).
    page = await submitAndFollow(browser, page, '/account/sessions/revoke-all');
    expect(flashes(page)).toEqual(['ok: Revoked 2 tokens. Your apps stay authorized; they will ask you to sign in again.']);
    expect(await bothActive(cli2)).toEqual([false, false]);
    expect(await bothActive(bobs)).toEqual([true, true]);
    expect(page.html).toContain('No app holds a working token for you.');
    // Consents were not withdrawn: both apps are still listed as authorized.
    const authorizations = await browser.get('/account/authorizations');
    expect(authorizations.html).toContain('<strong>Living-room TV</strong>');
    expect(authorizations.html).toContain('<strong>AuthGate CLI</strong>');
  }, 60_000);

  test('sessions: another user’s token, an unknown id or an odd one is refused with a message, never a 500', async () => {
    const bobs = await deviceToken('bob');
    const browser = await signIn('alice');
    const page = await browser.get('/account/sessions');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    for (const id of [await rowId(bobs.access_token), 'no-such-token', '%E2%9C%93:x']) {
      const answer = await browser.post(`/account/sessions/${id}/revoke`, { _csrf: csrf });
      expect([id, answer.status, answer.location]).toEqual([id, 302, '/account/sessions']);
      expect(flashes(await browser.follow(answer))).toEqual(['error: token not found']);
    }
    expect(await bothActive(bobs)).toEqual([true, true]);
    const unknownClient = await browser.post('/account/sessions/revoke-all', { _csrf: csrf, client: 'no-such-client' });
    expect(flashes(await browser.follow(unknownClient))).toEqual(['error: client not found']);
  }, 30_000);

  test('authorizations: a device-flow grant is listed with its scopes; revoking it (after the confirmation page) makes its token inactive at introspection', async () => {
    const tv = await deviceToken('pat', tvClientId);
    const bobs = await deviceToken('bob', tvClientId);
    const browser = await signIn('pat');
    let page = await browser.get('/account/authorizations');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<strong>Living-room TV</strong>');
    expect(page.html).toContain('<code>read</code>');
    expect(page.html).toContain('<code>offline_access</code>');
    const link = /href="(\/account\/authorizations\/[^"/]+\/revoke)"/.exec(page.html)![1]!;

    // The confirmation page says what will happen and holds the only button that does it.
    page = await browser.get(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Revoke access for Living-room TV?</h1>');
    expect(page.html).toContain('every token it holds for you stops working at once');
    expect(await isActive(server, rs, tv.access_token)).toBe(true);

    page = await submitAndFollow(browser, page, link);
    expect(flashes(page)).toEqual(['ok: Living-room TV can no longer act for you; 2 tokens revoked. It must ask again to get back in.']);
    expect(await bothActive(tv)).toEqual([false, false]);
    expect(await bothActive(bobs)).toEqual([true, true]);
    expect(page.html).toContain('You have not authorized any app.');

    // Gone now, someone else's, or never there: a 404 page, not the confirmation.
    const bobsAuthorization = await server.authgate.db.userAuthorization.findFirstOrThrow({ where: { user: { username: 'bob' } } });
    for (const path of [link, `/account/authorizations/${bobsAuthorization.id}/revoke`, '/account/authorizations/nope/revoke']) {
      const missing = await browser.get(path);
      expect([path, missing.status]).toEqual([path, 404]);
      expect(missing.html).toContain('There is no such authorization among the apps you let in.');
    }
    // The admin, who may read anyone's authorization through the API, gets the same answer here.
    const admin = await signIn('admin', ADMIN_PASSWORD);
    expect((await admin.get(`/account/authorizations/${bobsAuthorization.id}/revoke`)).status).toBe(404);
    // Posting anyway (another user's): refused with the API's reason, and Bob's app keeps working.
    const csrf = /name="_csrf" value="([^"]+)"/.exec((await browser.get('/account/password')).html)![1]!;
    const refused = await browser.post(`/account/authorizations/${bobsAuthorization.id}/revoke`, { _csrf: csrf });
    expect(flashes(await browser.follow(refused))).toEqual(['error: authorization not found']);
    expect(await bothActive(bobs)).toEqual([true, true]);
  }, 60_000);

  test('browser sessions: this one marked with a Sign out button; sign out another; then all the others', async () => {
    const here = await signIn('tim');
    const second = await signIn('tim');
    const third = await signIn('tim');
    let page = await here.get('/account/browser-sessions');
    expect(page.status).toBe(200);
    expect(page.html.match(/<tr/g)).toHaveLength(4); // header + three sessions
    expect(page.html.match(/This browser/g)).toHaveLength(1);
    expect(page.html).toContain('<span class="mono">127.0.0.1</span>');
    // The current one is signed out through /logout; the others each have their own form.
    const current = /<tr class="current">([\s\S]*?)<\/tr>/.exec(page.html)![1]!;
    expect(current).toContain('action="/logout"');
    const others = [...page.html.matchAll(/action="(\/account\/browser-sessions\/[^"/]+\/revoke)"/g)].map((m) => m[1]!);
    expect(others).toHaveLength(2);

    page = await submitAndFollow(here, page, others[0]!);
    expect(flashes(page)).toEqual(['ok: That browser is signed out.']);
    const stillIn = async (b: ScriptedBrowser) => (await b.get('/account/sessions')).status === 200;
    expect([await stillIn(second), await stillIn(third)].sort()).toEqual([false, true]);
    expect(await stillIn(here)).toBe(true);

    page = await submitAndFollow(here, await here.get('/account/browser-sessions'), '/account/browser-sessions/revoke-others');
    expect(flashes(page)).toEqual(['ok: Signed out 1 other browser session.']);
    expect([await stillIn(second), await stillIn(third)]).toEqual([false, false]);
    expect(page.html.match(/<tr/g)).toHaveLength(2);
    expect(page.html).not.toContain('Sign out all other browsers');

    // Its own session's id posted anyway: the browser is signed out, as with /logout.
    const account = await gql(server, MyAccountDocument, {}, { browser: here });
    const mine = Buffer.from(account.data!.viewer!.sessions.edges.find((e) => e.node.current)!.node.id, 'base64').toString().split(':')[1]!;
    const answer = await here.post(`/account/browser-sessions/${mine}/revoke`, { _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]! });
    expect([answer.status, answer.location]).toEqual([302, '/login']);
    expect(await stillIn(here)).toBe(false);
  }, 30_000);

  test('password: wrong current password, a mismatch and a short one are shown next to their fields; a change signs the other browsers out', async () => {
    const browser = await signIn('una');
    const other = await signIn('una');
    let page = await browser.get('/account/password');
    expect(page.html).toContain('autocomplete="current-password"');

    const wrong = await browser.submit(page, '/account/password', { currentPassword: 'not-my-password', newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' });
    expect(wrong.status).toBe(400);
    expect(fieldError(wrong, 'currentPassword')).toBe('The current password is not correct.');
    // Passwords are never written back into the form.
    expect(wrong.html).not.toContain('not-my-password');
    expect(wrong.html).not.toContain('a-new-password-1');

    const mismatch = await browser.submit(wrong, '/account/password', { currentPassword: PASSWORD, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-2' });
    expect(mismatch.status).toBe(400);
    expect(fieldError(mismatch, 'confirmPassword')).toBe('This does not match the new password.');

    const short = await browser.submit(mismatch, '/account/password', { currentPassword: PASSWORD, newPassword: 'short', confirmPassword: 'short' });
    expect(short.status).toBe(400);
    expect(fieldError(short, 'newPassword')).toMatch(/^A password is 8 to \d+ characters\.$/);

    const empty = await browser.submit(short, '/account/password', { currentPassword: '', newPassword: '', confirmPassword: '' });
    expect(empty.status).toBe(400);
    expect(fieldError(empty, 'currentPassword')).toBe('Enter your current password.');
    expect(fieldError(empty, 'newPassword')).toBe('Enter a new password.');

    page = await submitAndFollow(browser, empty, '/account/password', { currentPassword: PASSWORD, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' });
    expect(flashes(page)).toEqual(['ok: Password changed. 1 other browser session signed out.']);
    expect((await other.get('/account/sessions')).status).toBe(302);
    expect((await browser.get('/account/sessions')).status).toBe(200);
    await signIn('una', 'a-new-password-1');
  }, 30_000);

  test('password: too many wrong current passwords → the wait is shown, with 429 and Retry-After', async () => {
    const browser = await signIn('sam');
    let page = await browser.get('/account/password');
    for (let i = 0; i < 5; i++) {
      page = await browser.submit(page, '/account/password', { currentPassword: `guess-${i}`, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' });
      expect(page.status).toBe(400);
    }
    const res = await browser.fetch('/account/password', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!, currentPassword: PASSWORD, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' }).toString(),
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fieldError({ status: 429, url: '', html: await res.text() }, 'currentPassword')).toMatch(/^Too many wrong passwords\. Try again in \d+ (seconds|minutes)\.$/);
    // The same account limit as signing in: the lockout holds there too.
    expect((await new ScriptedBrowser(server.url).login('sam', PASSWORD)).status).toBe(429);
  }, 30_000);

  test('password: an account from another sign-in source sees a note instead of the form', async () => {
    const browser = await signIn('ldap-lee');
    const page = await browser.get('/account/password');
    expect(page.status).toBe(200);
    expect(page.html).toContain('You sign in through <strong>ldap</strong>');
    expect(page.html).not.toContain('action="/account/password"');
    // Posting anyway: the API's refusal, shown on the page.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const posted = await browser.post('/account/password', { _csrf: csrf, currentPassword: PASSWORD, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' });
    expect(posted.status).toBe(400);
    expect(posted.html).toContain('this account signs in elsewhere');
  });

  test('a form posted without its CSRF token is refused (403) and changes nothing', async () => {
    const tokens = await deviceToken('bob', tvClientId);
    const browser = await signIn('bob');
    const elsewhere = await signIn('bob');
    const sessions = await browser.get('/account/sessions');
    const authorizations = await browser.get('/account/authorizations');
    const confirm = await browser.get(/href="(\/account\/authorizations\/[^"/]+\/revoke)"/.exec(authorizations.html)![1]!);
    const browserSessions = await browser.get('/account/browser-sessions');
    const password = await browser.get('/account/password');
    const attempts: [Page, string, Record<string, string>][] = [
      [sessions, `/account/sessions/${await rowId(tokens.access_token)}/revoke`, {}],
      [sessions, '/account/sessions/revoke-all', {}],
      [confirm, /action="(\/account\/authorizations\/[^"/]+\/revoke)"/.exec(confirm.html)![1]!, {}],
      [browserSessions, /action="(\/account\/browser-sessions\/[^"/]+\/revoke)"/.exec(browserSessions.html)![1]!, {}],
      [browserSessions, '/account/browser-sessions/revoke-others', {}],
      [password, '/account/password', { currentPassword: PASSWORD, newPassword: 'a-new-password-1', confirmPassword: 'a-new-password-1' }],
    ];
    for (const [page, action, fields] of attempts) {
      const answer = await browser.submit(page, action, fields, { dropCsrf: true });
      expect([action, answer.status]).toEqual([action, 403]);
    }
    expect(await bothActive(tokens)).toEqual([true, true]);
    expect((await elsewhere.get('/account/sessions')).status).toBe(200);
    await signIn('bob', PASSWORD);
  }, 30_000);
});

/** The message shown under a form field (m.field renders it with id e-<name>). */
function fieldError(page: Page, name: string): string | undefined {
  const m = new RegExp(`<p class="field-error" id="e-${name}">([^<]*)</p>`).exec(page.html);
  return m ? decode(m[1]!) : undefined;
}

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
