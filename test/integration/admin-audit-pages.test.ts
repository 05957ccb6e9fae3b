// The admin dashboard (/admin), tokens (/admin/tokens) and audit (/admin/audit) pages over real HTTP,
// as a browser without script would use them: every route and filter, the one-button token actions
// (post/redirect/get, CSRF, the API's refusals), bad filter values as readable 400s, and who may open
// them. Effects are checked through the pages and the GraphQL API.
import { randomUUID } from 'node:crypto';
import { insertAuditBatch } from '../../src/db/audit-batch.js';
import type { OAuthClient, Prisma, User } from '../../src/db/client.js';
import { hashPassword } from '../helpers/passwords.js';
import { ScriptedBrowser, type Page } from '../helpers/browser.js';
import { createClient } from '../helpers/clients.js';
import { gql, signedInBrowser } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: ScriptedBrowser;
let alice: User;
let cli: OAuthClient;
let other: OAuthClient;
const db = () => server.authgate.db;
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

async function issue(user: User | null, client: OAuthClient, withRefresh: boolean) {
  return server.authgate.services.tokens.issue({ client, user, scopes: ['read'], resources: [], grantType: 'authorization_code' }, { withRefresh }, { ip: '127.0.0.1', userAgent: 'page-test' });
}

/** The flash messages on a page. */
function flashes(page: Page): string[] {
  return [...page.html.matchAll(/<p class="flash (\w+)" role="status">([^<]*)<\/p>/g)].map((m) => `${m[1]}: ${decode(m[2]!)}`);
}

function decode(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The token ids listed on a tokens page, from their rows. */
function tokenRows(page: Page): string[] {
  return [...page.html.matchAll(/<tr id="token-([^"]+)">/g)].map((m) => m[1]!);
}

function rowOf(page: Page, rawId: string): string {
  const start = page.html.indexOf(`<tr id="token-${rawId}">`);
  if (start < 0) throw new Error(`no row for token ${rawId}`);
  return page.html.slice(start, page.html.indexOf('</tr>', start));
}

/** The audit rows' event types, in order. */
function eventTypes(page: Page): string[] {
  return [...page.html.matchAll(/<span class="event-type">([\s\S]*?)<\/span>/g)].map((m) => m[1]!.replace(/<wbr>/g, ''));
}

/** The message next to a field, if any. */
function fieldError(page: Page, name: string): string | undefined {
  const m = new RegExp(`<p class="field-error" id="e-${name}">([^<]*)</p>`).exec(page.html);
  return m ? decode(m[1]!) : undefined;
}

/** Writes the buffered audit events now, so pages that read them see them. */
const flushAudit = () => server.authgate.services.audit.flush();

async function tokenStatus(rawId: string): Promise<string> {
  const res = await gql<{ node: { status: string } | null }>(server, `query($id: ID!) { node(id: $id) { ... on Token { status } } }`, { id: globalId('Token', rawId) }, { browser: admin });
  return res.data!.node!.status;
}

beforeAll(async () => {
  server = await startTestServer();
  admin = await signedInBrowser(server);
  alice = await db().user.create({ data: { username: 'alice', passwordHash: await hashPassword('alice-password') } });
  cli = await db().oAuthClient.findFirstOrThrow({ where: { clientId: server.cliClientId } });
  const created = await createClient(server, { name: 'Reporting app', type: 'public' });
  other = await db().oAuthClient.findUniqueOrThrow({ where: { clientId: created.clientId } });
}, 30_000);
afterAll(() => server.close());

describe('who may open the pages', () => {
  test.each(['/admin', '/admin/tokens', '/admin/audit'])('%s: a visitor is sent to sign in, a non-admin gets a 403 page', async (path) => {
    const anonymous = await new ScriptedBrowser(server.url).get(path);
    expect(anonymous.status).toBe(302);
    expect(anonymous.location).toBe(`/login?redirect=${encodeURIComponent(path)}`);
    const user = await signedInBrowser(server, 'alice', 'alice-password');
    const page = await user.get(path);
    expect(page.status).toBe(403);
    expect(page.html).toContain('Only administrators can open this page.');
  });

  test('the admin navigation is shown to admins only', async () => {
    const user = await signedInBrowser(server, 'alice', 'alice-password');
    expect((await user.get('/')).html).not.toContain('href="/admin/audit"');
    expect((await admin.get('/')).html).toContain('href="/admin/audit"');
  });
});

describe('dashboard', () => {
  test('cards and the charted figures, as a JSON block for the chart and as a table', async () => {
    await new ScriptedBrowser(server.url).login('alice', 'wrong password');
    await issue(alice, cli, true);
    await flushAudit();
    const page = await admin.get('/admin');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<h1>Dashboard</h1>');
    expect(page.html).toContain('src="/static/vendor/chart.umd.min.js"');
    expect(page.html).toContain('src="/static/dashboard.js"');
    expect(page.html).not.toMatch(/<script>(?!<)/); // no inline script
    const json = /<script type="application\/json" id="stats-data">([^<]*)<\/script>/.exec(page.html)?.[1];
    const data = JSON.parse(json!) as { labels: string[]; logins: number[]; failedLogins: number[]; issued: { label: string; counts: number[] }[] };
    expect(data.labels).toHaveLength(24); // DAY: hourly
    expect(data.logins.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1); // the admin's own sign-in
    expect(data.failedLogins.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(data.issued.find((s) => s.label === 'authorization code')?.counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    // The same figures in a table, without script.
    expect(page.html).toContain('<th scope="col">Tokens: authorization code</th>');
    expect(page.html.match(/<th scope="row">/g)).toHaveLength(24);
    // Cards: users, clients, tokens.
    expect(page.html).toMatch(/<h3>Users<\/h3>\s*<p class="n">2<\/p>/);
    expect(page.html).toMatch(/<h3>Active tokens<\/h3>\s*<p class="n">\d+<\/p>/);
    expect(page.html).toContain('aria-label="Sign-ins and failed sign-ins per interval');
    expect(page.html).toMatch(/<a href="\/admin\?window=day" aria-current="page">Day<\/a>/);
  });

  test.each([
    ['hour', 12],
    ['WEEK', 28],
    ['Month', 30],
  ])('?window=%s switches the window', async (window, points) => {
    const page = await admin.get(`/admin?window=${window}`);
    expect(page.status).toBe(200);
    const data = JSON.parse(/id="stats-data">([^<]*)</.exec(page.html)![1]!) as { labels: string[] };
    expect(data.labels).toHaveLength(points);
    expect(page.html).toContain(`href="/admin?window=${window.toLowerCase()}" aria-current="page"`);
  });

  test.each(['window=year', 'window=day&window=week', 'window=%20'])('an unknown window (%s) is a readable 400, not a 500', async (query) => {
    const page = await admin.get(`/admin?${query}`);
    expect(page.status).toBe(400);
    expect(page.html).toContain('Unknown time window. Use one of: hour, day, week, month.');
  });

  test('a control character in the window is refused by the request reader: a 400 page', async () => {
    const page = await admin.get('/admin?window=day%00');
    expect(page.status).toBe(400);
    expect(page.html).toContain('must not contain control characters');
  });
});

describe('tokens', () => {
  let accessId: string;
  let refreshId: string;
  let otherClientToken: string;

  beforeAll(async () => {
    await issue(alice, cli, true);
    await issue(null, other, false); // a client acting for itself
    const page = await admin.get(`/admin/tokens?user=${alice.id}&category=REFRESH`);
    refreshId = tokenRows(page)[0]!;
    accessId = tokenRows(await admin.get(`/admin/tokens?user=${alice.id}&category=ACCESS`))[0]!;
    otherClientToken = tokenRows(await admin.get(`/admin/tokens?client=${other.id}`))[0]!;
  });

  test('the list: columns, filter choices, status badges and actions', async () => {
    const page = await admin.get('/admin/tokens');
    expect(page.status).toBe(200);
    for (const column of ['Category', 'User', 'Client', 'Scopes', 'Grant', 'Created', 'Expires', 'Last used', 'Status']) expect(page.html).toContain(`<th scope="col">${column}</th>`);
    expect(page.html).toContain('<option value="' + alice.id + '">alice</option>');
    expect(page.html).toContain(`<option value="${other.id}">Reporting app (${other.clientId})</option>`);
    const row = rowOf(page, accessId);
    expect(row).toContain('>alice</a>');
    expect(row).toContain('<code>read</code>');
    expect(row).toContain('authorization code');
    expect(row).toContain('<span class="badge ok">active</span>');
    expect(row).toContain(`action="/admin/tokens/${accessId}/disable"`);
    expect(row).toContain(`action="/admin/tokens/${accessId}/revoke"`);
    expect(row).toMatch(/data-confirm="Revoke this access token for good\?"/);
    expect(rowOf(page, otherClientToken)).toContain('the client itself');
  });

  test('filters: category, status, user, client', async () => {
    const refresh = await admin.get('/admin/tokens?category=REFRESH');
    expect(refresh.html).toContain(`token-${refreshId}`);
    expect(refresh.html).not.toContain(`token-${accessId}`);
    expect(refresh.html).toMatch(/<option value="REFRESH" selected>/);
    const byUser = await admin.get(`/admin/tokens?user=${alice.id}`);
    expect(tokenRows(byUser).length).toBeGreaterThanOrEqual(2);
    expect(byUser.html).not.toContain(`token-${otherClientToken}`);
    const byClient = await admin.get(`/admin/tokens?client=${other.id}`);
    expect(tokenRows(byClient)).toEqual([otherClientToken]);
    expect(byClient.html).toContain('1 token matches.');
    const revoked = await admin.get('/admin/tokens?status=revoked');
    expect(revoked.status).toBe(200);
    expect(revoked.html).toContain('No tokens match these filters.');
    // An id nobody has: an empty list, not an error.
    const nobody = await admin.get(`/admin/tokens?user=${randomUUID()}`);
    expect(nobody.status).toBe(200);
    expect(nobody.html).toContain('No tokens match these filters.');
  });

  test('bad filter values: a 400 page that says which, next to the field, with the rest applied', async () => {
    const page = await admin.get(`/admin/tokens?category=BOGUS&status=gone&user=${encodeURIComponent('../x')}&client=${other.id}`);
    expect(page.status).toBe(400);
    expect(fieldError(page, 'category')).toBe('Unknown category "BOGUS": choose access or refresh.');
    expect(fieldError(page, 'status')).toBe('Unknown status "GONE": choose active, disabled or revoked.');
    expect(fieldError(page, 'user')).toBe('This is not a user id.');
    expect(tokenRows(page)).toEqual([otherClientToken]);
    expect((await admin.get('/admin/tokens?after=not-a-cursor')).status).toBe(400);
    expect((await admin.get('/admin/tokens?before=not-a-cursor')).status).toBe(400);
  });

  test('pagination: 25 a page, next and previous keep the filters', async () => {
    for (let i = 0; i < 27; i++) await issue(null, other, false);
    const first = await admin.get(`/admin/tokens?client=${other.id}`);
    expect(tokenRows(first)).toHaveLength(25);
    const next = /<a href="([^"]+)">Next →<\/a>/.exec(first.html)![1]!;
    expect(decode(next)).toContain(`client=${other.id}`);
    const second = await admin.get(decode(next));
    expect(tokenRows(second)).toHaveLength(3);
    expect(tokenRows(second)).toContain(otherClientToken); // the oldest
    expect(second.html).not.toContain('Next →');
    const previous = /<a href="([^"]+)">← Previous<\/a>/.exec(second.html)![1]!;
    expect(tokenRows(await admin.get(decode(previous)))).toEqual(tokenRows(first));
  });

  test('disable, enable, revoke: post/redirect/get back to the same list, effect visible, and a revoked token cannot be enabled', async () => {
    const back = `/admin/tokens?user=${alice.id}&category=ACCESS`;
    let page = await admin.get(back);
    let res = await admin.submit(page, `/admin/tokens/${accessId}/disable`, {});
    expect(res.status).toBe(302);
    expect(res.location).toBe(back);
    page = await admin.follow(res);
    expect(flashes(page)).toEqual(['ok: Token disabled: it does not work until it is enabled again.']);
    expect(rowOf(page, accessId)).toContain('<span class="badge warn">disabled</span>');
    expect(rowOf(page, accessId)).toContain(`action="/admin/tokens/${accessId}/enable"`);
    expect(await tokenStatus(accessId)).toBe('DISABLED');

    page = await admin.follow(await admin.submit(page, `/admin/tokens/${accessId}/enable`, {}));
    expect(flashes(page)).toEqual(['ok: Token enabled.']);
    expect(await tokenStatus(accessId)).toBe('ACTIVE');

    page = await admin.follow(await admin.submit(page, `/admin/tokens/${accessId}/revoke`, {}));
    expect(flashes(page)).toEqual(['ok: Token revoked.']);
    expect(rowOf(page, accessId)).toContain('<span class="badge bad">revoked</span>');
    expect(rowOf(page, accessId)).not.toContain('<form');
    expect(await tokenStatus(accessId)).toBe('REVOKED');

    // The page offers no Enable for it; a stale form or a hand-made post gets the API's refusal.
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    res = await admin.post(`/admin/tokens/${accessId}/enable`, { _csrf: csrf, _back: back });
    expect(res.status).toBe(302);
    page = await admin.follow(res);
    expect(flashes(page)).toHaveLength(1);
    expect(flashes(page)[0]).toMatch(/^error: .*revoked/i);
    expect(await tokenStatus(accessId)).toBe('REVOKED');
  });

  test('revoking a refresh token takes the access token issued with it along, and says so', async () => {
    await issue(alice, cli, true);
    const page = await admin.get(`/admin/tokens?user=${alice.id}&category=REFRESH&status=ACTIVE`);
    const id = tokenRows(page)[0]!;
    const access = tokenRows(await admin.get(`/admin/tokens?user=${alice.id}&category=ACCESS&status=ACTIVE`))[0]!;
    const done = await admin.follow(await admin.submit(page, `/admin/tokens/${id}/revoke`, {}));
    expect(flashes(done)).toEqual(['ok: Token revoked, with 1 token issued from it.']);
    expect(await tokenStatus(id)).toBe('REVOKED');
    expect(await tokenStatus(access)).toBe('REVOKED');
  });

  test('an unknown or malformed token id: the refusal is shown, not a 500', async () => {
    const page = await admin.get('/admin/tokens');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
    for (const id of [randomUUID(), 'not%20an%20id']) {
      const res = await admin.post(`/admin/tokens/${id}/disable`, { _csrf: csrf });
      expect(res.status).toBe(302);
      expect(flashes(await admin.follow(res))[0]).toMatch(/^error: /);
    }
    // An off-site _back is not followed.
    const res = await admin.post(`/admin/tokens/${otherClientToken}/disable`, { _csrf: csrf, _back: 'https://evil.example/' });
    expect(res.location).not.toContain('evil.example');
    await admin.follow(await admin.post(`/admin/tokens/${otherClientToken}/enable`, { _csrf: csrf }));
  });

  test('without _csrf: 403 and nothing changed; a non-admin: 403 and nothing changed', async () => {
    const page = await admin.get(`/admin/tokens?user=${alice.id}&status=ACTIVE`);
    const target = tokenRows(page)[0]!;
    for (const action of ['disable', 'revoke']) {
      const res = await admin.submit(page, `/admin/tokens/${target}/${action}`, {}, { dropCsrf: true });
      expect(res.status).toBe(403);
      expect(res.html).toContain('This form has expired or did not come from this site.');
    }
    expect(await tokenStatus(target)).toBe('ACTIVE');

    const user = await signedInBrowser(server, 'alice', 'alice-password');
    const own = await user.get('/device'); // any page with a form, for this session's CSRF token
    const csrf = /name="_csrf" value="([^"]+)"/.exec(own.html)![1]!;
    const res = await user.post(`/admin/tokens/${target}/revoke`, { _csrf: csrf });
    expect(res.status).toBe(403);
    expect(await tokenStatus(target)).toBe('ACTIVE');
    const anonymous = await new ScriptedBrowser(server.url).post(`/admin/tokens/${target}/revoke`, {});
    expect(anonymous.status).toBe(302);
    expect(anonymous.location).toMatch(/^\/login/);
    expect(await tokenStatus(target)).toBe('ACTIVE');
  });
});

describe('audit log', () => {
  const BULK = 'PAGE_TEST_EVENT';
  const base = Date.UTC(2026, 0, 15, 12, 0, 0);

  beforeAll(async () => {
    // 60 events of one type on 15 January 2026 from 12:00 UTC, a minute apart; every 10th a warning.
    const rows: Prisma.AuditEventCreateManyInput[] = [];
    for (let i = 0; i < 60; i++) {
      rows.push({
        id: randomUUID(),
        eventType: BULK,
        severity: i % 10 === 0 ? 'WARNING' : 'INFO',
        success: i % 10 !== 0,
        actorUserId: i % 2 === 0 ? alice.id : null,
        actorUsername: i % 2 === 0 ? 'alice' : `ghost-${i}`,
        subjectType: 'test',
        subjectId: `subject-${i}`,
        clientId: i < 30 ? 'client-a' : 'client-b',
        ipAddress: '192.0.2.7',
        userAgent: 'page-test',
        details: JSON.stringify({ n: i, note: i === 42 ? 'needle <b>bold</b>' : 'hay' }),
        createdAt: new Date(base + i * 60_000),
      });
    }
    await insertAuditBatch(db(), server.config.database.dialect, rows);
  });

  test('the log, newest first, with the columns, export link and live view', async () => {
    await new ScriptedBrowser(server.url).login('alice', 'not her password');
    await flushAudit();
    const page = await admin.get('/admin/audit');
    expect(page.status).toBe(200);
    expect(eventTypes(page)[0]).toBe('AUTHENTICATION_FAILURE');
    expect(page.html).toContain('<span class="badge bad">failed</span>');
    for (const column of ['Time (UTC)', 'Event', 'Severity', 'Actor', 'Client', 'Subject', 'Details']) expect(page.html).toContain(`<th scope="col">${column}</th>`);
    expect(page.html).toContain('href="/admin/audit/export"');
    expect(page.html).toContain('src="/static/audit-live.js"');
    expect(page.html).toContain('id="audit-live" data-filter="{}"');
    expect(page.html).toContain('aria-live="polite"');
    // Details are text, never markup.
    const needle = await admin.get('/admin/audit?search=needle');
    expect(needle.html).toContain('<li><span class="k">note</span> needle &lt;b&gt;bold&lt;/b&gt;</li>');
    expect(needle.html).toContain('<li><span class="k">n</span> 42</li>');
    expect(eventTypes(needle)).toEqual([BULK]);
  });

  test('filters: types, severity, actor by name or id, client, time range (UTC), text; the CSV link carries the same filter', async () => {
    const types = await admin.get(`/admin/audit?types=${BULK}`);
    expect(eventTypes(types)).toHaveLength(50);
    expect(types.html).toContain('60 events match</span>.');

    const warnings = await admin.get(`/admin/audit?types=${BULK}&severities=WARNING`);
    expect(eventTypes(warnings)).toHaveLength(6);
    expect(warnings.html).toMatch(/value="WARNING" checked/);
    const several = await admin.get(`/admin/audit?types=${BULK}&severities=WARNING&severities=INFO`);
    expect(several.html).toContain('60 events match</span>.');

    // Found by exact name (any case) even when more than a page of users, sorted before her, match too.
    for (let i = 0; i < 120; i++) await db().user.create({ data: { username: `a-${String(i).padStart(3, '0')}`, fullName: 'Alice fan' } });
    const byName = await admin.get(`/admin/audit?types=${BULK}&actor=Alice`);
    expect(byName.html).toContain('30 events match</span>.');
    const byId = await admin.get(`/admin/audit?types=${BULK}&actorId=${alice.id}`);
    expect(byId.html).toContain('30 events match</span>.');
    expect(byId.html).toContain('value="alice" readonly');
    expect(byId.html).toContain(`href="/admin/audit?actorId=${alice.id}"`);

    const client = await admin.get('/admin/audit?clientId=client-b');
    expect(client.html).toContain('30 events match</span>.');

    // 12:10 to 12:20 UTC, as datetime-local inputs send it: ten events.
    const range = await admin.get(`/admin/audit?types=${BULK}&since=2026-01-15T12:10&until=2026-01-15T12:20`);
    expect(range.html).toContain('10 events match</span>.');
    expect(range.html).toContain('value="2026-01-15T12:10"');
    expect(range.html).toContain('From (UTC)');
    // The same instants as ISO with a zone, e.g. from a link.
    const zoned = await admin.get(`/admin/audit?types=${BULK}&since=${encodeURIComponent('2026-01-15T13:10:00+01:00')}&until=2026-01-15T12:20:00Z`);
    expect(zoned.html).toContain('10 events match</span>.');

    const all = await admin.get(`/admin/audit?types=${BULK}&severities=WARNING&actor=alice&clientId=client-a&since=2026-01-15T12:00&until=2026-01-15T13:00&search=hay`);
    expect(all.status).toBe(200);
    const exportHref = decode(/<a class="button secondary" href="([^"]+)" download>Download CSV<\/a>/.exec(all.html)![1]!);
    const url = new URL(exportHref, server.url);
    expect(url.pathname).toBe('/admin/audit/export');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      types: BULK,
      severities: 'WARNING',
      actorId: alice.id,
      clientId: 'client-a',
      since: '2026-01-15T12:00:00.000Z',
      until: '2026-01-15T13:00:00.000Z',
      search: 'hay',
    });
    const csv = await (await admin.fetch(exportHref)).text();
    const lines = csv.trim().split('\n');
    expect(lines).toHaveLength(1 + 3); // events 0, 10, 20: warnings by alice for client-a
    expect(lines.slice(1).every((l) => l.includes(BULK) && l.includes('WARNING') && l.includes('client-a'))).toBe(true);
    const liveFilter = JSON.parse(decode(/data-filter="([^"]*)"/.exec(all.html)![1]!)) as Record<string, unknown>;
    expect(liveFilter).toEqual({ types: [BULK], severities: ['WARNING'], actorId: globalId('User', alice.id), clientId: 'client-a', since: '2026-01-15T12:00:00.000Z', until: '2026-01-15T13:00:00.000Z', search: 'hay' });
  });

  test('pagination: 50 a page, older pages keep the filter, back to the newest', async () => {
    const first = await admin.get(`/admin/audit?types=${BULK}&clientId=client-b`);
    expect(eventTypes(first)).toHaveLength(30);
    expect(first.html).not.toContain('Older →');
    const all = await admin.get(`/admin/audit?types=${BULK}`);
    expect(all.html).not.toContain('← Newest');
    const older = decode(/<a href="([^"]+)">Older →<\/a>/.exec(all.html)![1]!);
    expect(older).toContain(`types=${BULK}`);
    const second = await admin.get(older);
    expect(eventTypes(second)).toHaveLength(10);
    expect(second.html).toContain('subject-0<'); // the oldest
    expect(second.html).toContain('Live updates are shown on the');
    expect(decode(/<a href="([^"]+)">← Newest<\/a>/.exec(second.html)![1]!)).toBe(`/admin/audit?types=${BULK}`);
  });

  test.each([
    ['since=yesterday', 'since', '"yesterday" is not a date and time: enter one as YYYY-MM-DDTHH:MM (UTC).'],
    ['until=2026-02-31T10:00', 'until', '"2026-02-31T10:00" is not a date and time: enter one as YYYY-MM-DDTHH:MM (UTC).'],
    ['since=2026-01-15T24:00', 'since', '"2026-01-15T24:00" is not a date and time: enter one as YYYY-MM-DDTHH:MM (UTC).'],
    ['since=2026-01-15T12:30&until=2026-01-15T12:00', 'until', 'Must be later than "From".'],
    ['severities=LOUD', 'severities', 'Unknown severity "LOUD": choose from info, warning, error, critical.'],
    ['types=%3Cscript%3E', 'types', 'Event types are words like AUTHENTICATION_FAILURE, separated by spaces or commas.'],
    ['actor=nobody-here', 'actor', 'No user is called "nobody-here". To find events of a deleted user or a client, search for the name in the text field.'],
    ['actorId=..%2F..', 'actor', 'This is not a user id.'],
    [`actor=${'a'.repeat(101)}`, 'actor', 'At most 100 characters.'],
    [`search=${'x'.repeat(201)}`, 'search', 'At most 200 characters.'],
  ])('a bad filter (%s): a readable 400 with the message next to the field', async (query, field, message) => {
    const page = await admin.get(`/admin/audit?${query}`);
    expect(page.status).toBe(400);
    expect(fieldError(page, field)).toBe(message);
    expect(page.html).toContain('The filter could not be used');
    expect(page.html).not.toContain('Download CSV'); // it would export the filter half-applied
    expect(page.html).not.toContain('<script>');
  });

  test('a malformed cursor is a 400 page', async () => {
    const page = await admin.get('/admin/audit?after=bogus');
    expect(page.status).toBe(400);
    expect(page.html).toContain('cursor');
  });

  test('the live view: GET /graphql as an EventSource sends it (Accept: text/event-stream, the session cookie) streams new events', async () => {
    const query = 'subscription AuditLive($filter: AuditEventFilter) { auditEvents(filter: $filter) { eventType actorUsername success } }';
    const variables = JSON.stringify({ filter: { types: ['AUTHENTICATION_FAILURE'] } });
    const abort = new AbortController();
    const res = await admin.fetch(`/graphql?query=${encodeURIComponent(query)}&variables=${encodeURIComponent(variables)}`, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    await new Promise((r) => setTimeout(r, 200));
    await new ScriptedBrowser(server.url).login('alice', 'wrong again');
    const deadline = Date.now() + 10_000;
    while (!text.includes('event: next') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    abort.abort();
    const data = /event: next\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data!)).toEqual({ data: { auditEvents: { eventType: 'AUTHENTICATION_FAILURE', actorUsername: 'alice', success: false } } });

    // Without a session: the stream says why and ends.
    const anonymous = await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, { headers: { accept: 'text/event-stream' } });
    const body = await anonymous.text();
    expect(body).toContain('UNAUTHENTICATED');
  });
});
