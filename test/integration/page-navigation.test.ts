// The pages' shared frame: the navigation offers admin sections to administrators only, admin pages
// refuse everyone else (sign-in for visitors, 403 for users), and the in-process GraphQL the pages use
// applies the API's own rules.
import { ScriptedBrowser } from '../helpers/browser.js';
import { gql, signedInBrowser } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let admin: ScriptedBrowser;
let user: ScriptedBrowser;
const ADMIN_PAGES = ['/admin', '/admin/users', '/admin/clients', '/admin/tokens', '/admin/audit'];

beforeAll(async () => {
  server = await startTestServer();
  admin = await signedInBrowser(server);
  const created = await gql(server, 'mutation { createUser(input: { username: "walt", password: "walt-password-123" }) { user { id } } }', {}, { browser: admin });
  expect(created.errors).toBeUndefined();
  user = await signedInBrowser(server, 'walt', 'walt-password-123');
});
afterAll(() => server.close());

const navLinks = (html: string) => [...(/<nav aria-label="Main">([\s\S]*?)<\/nav>/.exec(html)?.[1] ?? '').matchAll(/href="([^"]+)"/g)].map((m) => m[1]);

test('administrators see the admin sections in the navigation; other users do not', async () => {
  expect(navLinks((await admin.get('/account/sessions')).html)).toEqual(expect.arrayContaining(['/account/sessions', ...ADMIN_PAGES]));
  const userNav = navLinks((await user.get('/account/sessions')).html);
  expect(userNav).toContain('/account/sessions');
  expect(userNav.filter((href) => href!.startsWith('/admin'))).toEqual([]);
});

test.each(ADMIN_PAGES)('%s: a user gets a readable 403 page, a visitor is sent to sign in', async (path) => {
  const refused = await user.get(path);
  expect(refused.status).toBe(403);
  expect(refused.html).toContain('Only administrators');
  const visitor = await new ScriptedBrowser(server.url).get(path);
  expect(visitor.status).toBe(302);
  expect(visitor.location).toBe(`/login?redirect=${encodeURIComponent(path)}`);
  expect((await admin.get(path)).status).toBe(200);
});

test('account pages need a sign-in and work for any user', async () => {
  const visitor = await new ScriptedBrowser(server.url).get('/account/sessions');
  expect(visitor.status).toBe(302);
  expect(visitor.location).toMatch(/^\/login\?redirect=/);
  expect((await user.get('/account/sessions')).status).toBe(200);
});
