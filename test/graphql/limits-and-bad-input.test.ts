// Safety limits and bad input at /graphql: every refusal is a clear, coded GraphQL error (never a 5xx),
// limits are enforced before execution, and a refused mutation writes nothing.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/env.js';
import { MAX_PAGE_SIZE } from '../../src/graphql/pagination.js';
import { codes, deviceFlowToken, gql, signedInBrowser, type CallOptions } from '../helpers/graphql.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { CreateUserDocument, SetUserRoleDocument, UserDocument, UsersDocument, ViewerDocument } from './generated/graphql.js';

let server: TestServer;
let admin: CallOptions;
const globalId = (type: string, id: string) => Buffer.from(`${type}:${id}`).toString('base64');

beforeAll(async () => {
  server = await startTestServer();
  admin = { token: (await deviceFlowToken(server, { scope: 'admin' })).access_token };
});
afterAll(() => server.close());

/** A query `levels` fields deep: viewer → user → connections → edges → node → user → … */
function deepQuery(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i++) inner = i % 2 === 0 ? `user { connections { edges { node { ${inner} } } } }` : `user { id ${inner.replace(/^user/, 'u2: user')} }`;
  return `{ viewer { ${inner} } }`;
}

describe('limits, before execution', () => {
  test('a query deeper than GRAPHQL_MAX_DEPTH (10) is refused with a clear error and no data', async () => {
    const res = await gql(server, `{ viewer { user { connections { edges { node { user { connections { edges { node { user { connections { edges { node { id } } } } } } } } } } } } } }`, {}, admin);
    expect(res.status).toBe(200);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toMatch(/depth limit of 10/);
    expect(res.data).toBeUndefined();
    void deepQuery;
  });

  test('too many aliases (over 15) are refused', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
    const res = await gql(server, query, {}, admin);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toMatch(/[Aa]liases limit of 15/);
    const fine = await gql(server, `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`, {}, admin);
    expect(fine.errors).toBeUndefined();
  });

  test('a query over the cost limit is refused; the admin users page is within it', async () => {
    expect((await gql(server, UsersDocument, { first: MAX_PAGE_SIZE }, admin)).errors).toBeUndefined();
    // Fifteen aliases of the whole users page, each with every field: deep and wide.
    const fields = 'id username email fullName role active authSource hasPassword lastLoginAt createdAt updatedAt activeTokenCount emailVerified';
    const page = `users(first: 100) { totalCount edges { cursor node { ${fields} connections { totalCount edges { node { id provider providerUserId email displayName user { ${fields} } } } } } } }`;
    const res = await gql(server, `{ ${Array.from({ length: 15 }, (_, i) => `p${i}: ${page}`).join(' ')} }`, {}, admin);
    expect(codes(res)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(res.errors?.[0]?.message).toMatch(/[Cc]ost limit of 5000/);
    expect(res.data).toBeUndefined();
  });

  test(`first is capped at ${MAX_PAGE_SIZE}: more, or a negative number, is BAD_USER_INPUT`, async () => {
    for (const first of [MAX_PAGE_SIZE + 1, 10_000, -1]) {
      const res = await gql(server, UsersDocument, { first }, admin);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      expect(res.data?.users ?? null).toBeNull();
    }
    expect((await gql(server, UsersDocument, { first: MAX_PAGE_SIZE }, admin)).errors).toBeUndefined();
  });

  test('batched requests are limited to GRAPHQL_MAX_BATCH (5)', async () => {
    const op = { query: '{ viewer { id } }' };
    const ok = await gql(server, '', {}, { ...admin, rawBody: JSON.stringify([op, op]) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toHaveLength(2);
    const tooMany = await gql(server, '', {}, { ...admin, rawBody: JSON.stringify(Array.from({ length: 6 }, () => op)) });
    expect(tooMany.status).toBeGreaterThanOrEqual(400);
    expect(tooMany.status).toBeLessThan(500);
    expect(codes(tooMany)).toEqual(['BAD_REQUEST']);
    expect(tooMany.errors?.[0]?.message).toMatch(/[Bb]atch/);
  });

  test('a body over 100 KiB is refused with 413 before it is parsed', async () => {
    const res = await gql(server, '', {}, { ...admin, rawBody: JSON.stringify({ query: `{ viewer { id } } # ${'x'.repeat(120 * 1024)}` }) });
    expect(res.status).toBe(413);
    expect(codes(res)).toEqual(['BAD_REQUEST']);
  });
});

describe('bad input', () => {
  test('malformed JSON: 400 (GraphQL over HTTP), coded, without the parser internals', async () => {
    const res = await gql(server, '', {}, { ...admin, rawBody: '{"query": "{ viewer { id } }"', headers: { accept: 'application/graphql-response+json' } });
    expect(res.status).toBe(400);
    expect(codes(res)).toEqual(['BAD_REQUEST']);
    expect(res.text).not.toMatch(/originalError|stack/);
  });

  test('a syntax error is GRAPHQL_PARSE_FAILED; an unknown field or enum literal in the document GRAPHQL_VALIDATION_FAILED', async () => {
    expect(codes(await gql(server, '{ viewer { id ', {}, admin))).toEqual(['GRAPHQL_PARSE_FAILED']);
    expect(codes(await gql(server, '{ viewer { password } }', {}, admin))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes(await gql(server, '{ users(filter: { role: ROOT }) { totalCount } }', {}, admin))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  test('an unknown enum value in variables is BAD_USER_INPUT and changes nothing', async () => {
    const alice = await server.authgate.db.user.create({ data: { username: `alice-${randomUUID().slice(0, 6)}` } });
    const res = await gql(server, SetUserRoleDocument, { id: globalId('User', alice.id), role: 'ROOT' as never }, admin);
    expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    expect((await server.authgate.db.user.findUniqueOrThrow({ where: { id: alice.id } })).role).toBe('user');
  });

  test('invalid, foreign and unknown global IDs: BAD_USER_INPUT, BAD_USER_INPUT, NOT_FOUND', async () => {
    expect(codes(await gql(server, UserDocument, { id: 'not-an-id' }, admin))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(server, UserDocument, { id: '%%%' }, admin))).toEqual(['BAD_USER_INPUT']);
    const client = await server.authgate.db.oAuthClient.findFirstOrThrow();
    // A Client's ID where a User's is expected.
    const foreign = await gql(server, UserDocument, { id: globalId('Client', client.id) }, admin);
    expect(codes(foreign)).toEqual(['BAD_USER_INPUT']);
    expect(codes(await gql(server, UserDocument, { id: globalId('User', randomUUID()) }, admin))).toEqual(['NOT_FOUND']);
    expect(codes(await gql(server, '{ node(id: "Tm9wZTox") { id } }', {}, admin))).toEqual(['BAD_USER_INPUT']);
  });

  test.each(['User', 'Client', 'Token', 'Authorization', 'Session', 'AuditEvent', 'OAuthConnection'])(
    'node(id) of a %s that does not exist is NOT_FOUND with a plain message (never an internal error)',
    async (type) => {
      const res = await gql(server, 'query ($id: ID!) { node(id: $id) { id } }', { id: globalId(type, randomUUID()) }, admin);
      expect(codes(res)).toEqual(['NOT_FOUND']);
      expect(res.errors![0]!.message).not.toMatch(/prisma|invocation|\//i);
    },
  );

  test('a garbage cursor is BAD_USER_INPUT', async () => {
    expect(codes(await gql(server, UsersDocument, { first: 5, after: 'garbage' }, admin))).toEqual(['BAD_USER_INPUT']);
  });

  test('a mutation with invalid input writes nothing', async () => {
    const before = await server.authgate.db.user.count();
    for (const input of [{ username: '' }, { username: 'has space' }, { username: 'ok-name', email: 'not-an-email' }, { username: 'ok-name', password: 'short' }]) {
      const res = await gql(server, CreateUserDocument, { input }, admin);
      expect(codes(res)).toEqual(['BAD_USER_INPUT']);
    }
    expect(await server.authgate.db.user.count()).toBe(before);
  });

  test('a GET mutation is refused (405) and writes nothing', async () => {
    const username = `get-${randomUUID().slice(0, 6)}`;
    const res = await gql(server, CreateUserDocument, { input: { username } }, { ...admin, method: 'GET' });
    expect(res.status).toBe(405);
    expect(await server.authgate.db.user.count({ where: { username } })).toBe(0);
  });

  test.each([
    ['application/x-www-form-urlencoded', (q: string) => new URLSearchParams({ query: q }).toString()],
    ['text/plain', (q: string) => JSON.stringify({ query: q })],
    ['multipart/form-data; boundary=b', (q: string) => `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${JSON.stringify({ query: q })}\r\n--b--\r\n`],
  ])('a cookie mutation sent as %s (what a cross-site form can send) is refused, even from our origin', async (type, body) => {
    const browser = await signedInBrowser(server);
    const username = `csrf-${randomUUID().slice(0, 6)}`;
    const res = await gql(server, '', {}, { browser, headers: { 'content-type': type, origin: server.url }, rawBody: body(`mutation { createUser(input: { username: "${username}" }) { user { id } } }`) });
    expect(res.status).toBeLessThan(500);
    if (res.errors) expect(codes(res)).toEqual([expect.stringMatching(/FORBIDDEN|BAD_REQUEST/)]);
    expect(await server.authgate.db.user.count({ where: { username } })).toBe(0);
  });
});

test('no other site may read /graphql with a browser session: no CORS grant, preflight or not', async () => {
  const preflight = await fetch(`${server.url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  expect(preflight.status).toBeLessThan(500);
  expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
  const browser = await signedInBrowser(server);
  const read = await gql(server, ViewerDocument, {}, { browser, headers: { origin: 'https://evil.example' } });
  expect(read.headers.get('access-control-allow-origin')).toBeNull();
});

describe('developer tools', () => {
  test('outside production, introspection and GraphiQL are on', async () => {
    const res = await gql(server, '{ __schema { queryType { name } } }', {}, admin);
    expect(res.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/GraphiQL|graphiql/);
    // Served whole by this server: works without internet access and the page may load nothing from elsewhere.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet[^>]+https?:/i);
    expect(page.headers.get('content-security-policy')).not.toMatch(/https?:/);
  });

  test('GRAPHQL_INTROSPECTION=false and GRAPHIQL=false turn them off', async () => {
    const quiet = await startTestServer({ GRAPHQL_INTROSPECTION: 'false', GRAPHIQL: 'false' });
    try {
      const browser = await signedInBrowser(quiet);
      const res = await gql(quiet, '{ __schema { queryType { name } } }', {}, { browser });
      expect(codes(res).length).toBeGreaterThan(0);
      expect(new Set(codes(res))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(res.errors?.[0]?.message).toMatch(/introspection/i);
      expect((await gql(quiet, ViewerDocument, {}, { browser })).data?.viewer?.username).toBe('admin');
      const page = await fetch(`${quiet.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/graphiql/i);
    } finally {
      await quiet.close();
    }
  });

  test('in production both default to off', () => {
    const strong = 'x'.repeat(40);
    const config = loadConfig({ NODE_ENV: 'production', BASE_URL: 'https://auth.example.com', JWT_SECRET: strong, SESSION_SECRET: 'y'.repeat(40), DATA_DIR: server.dataDir });
    expect(config.graphql).toMatchObject({ introspection: false, graphiql: false });
    expect(loadConfig({ NODE_ENV: 'production', BASE_URL: 'https://auth.example.com', JWT_SECRET: strong, SESSION_SECRET: 'y'.repeat(40), DATA_DIR: server.dataDir, GRAPHQL_INTROSPECTION: 'true' }).graphql.introspection).toBe(true);
  });
});
