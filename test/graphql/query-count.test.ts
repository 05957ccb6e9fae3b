// The admin users page (users with their active token counts and last login) costs a fixed number of
// SQL queries whatever the page size: Pothos' Prisma query selection loads the counts with the page,
// not one query per user. Queries are counted with Prisma's query events on a client of the same database.
import { createLoaders } from '../../src/graphql/loaders.js';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { execute, parse } from 'graphql';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/client.js';
import { PrismaClient as PostgresClient } from '../../src/generated/postgresql/client.js';
import { PrismaClient as SqliteClient } from '../../src/generated/sqlite/client.js';
import { cookieViewer, type GraphQLContext } from '../../src/graphql/context.js';
import { schema } from '../../src/graphql/schema.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { UsersDocument } from './generated/graphql.js';

let server: TestServer;
let counting: Db;
const queries: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  const database = server.config.database;
  const log = [{ emit: 'event' as const, level: 'query' as const }];
  counting =
    database.dialect === 'sqlite'
      ? new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${database.file}` }), log })
      : (new PostgresClient({ adapter: new PrismaPg({ connectionString: database.url }), log }) as unknown as Db);
  (counting as unknown as { $on(event: 'query', cb: (e: { query: string }) => void): void }).$on('query', (e) => queries.push(e.query));

  // 60 users with 3 tokens each (2 active, 1 revoked), some signed in.
  const db = server.authgate.db;
  const client = await db.oAuthClient.findFirstOrThrow();
  const users = Array.from({ length: 60 }, (_, i) => ({ id: randomUUID(), username: `user${String(i).padStart(2, '0')}`, lastLoginAt: i % 2 ? new Date() : null }));
  await db.user.createMany({ data: users });
  const expiresAt = new Date(Date.now() + 3600_000);
  await db.token.createMany({
    data: users.flatMap((u) =>
      (['active', 'active', 'revoked'] as const).map((status) => ({
        tokenHash: randomUUID(),
        jti: randomUUID(),
        category: 'access' as const,
        status,
        scopes: 'read',
        grantType: 'device_code',
        userId: u.id,
        clientId: client.id,
        familyId: randomUUID(),
        expiresAt,
      })),
    ),
  });
});
afterAll(async () => {
  await counting.$disconnect();
  await server.close();
});

async function adminContext(): Promise<GraphQLContext> {
  const admin = await server.authgate.db.user.findUniqueOrThrow({ where: { username: 'admin' } });
  return {
    viewer: cookieViewer(admin),
    db: counting,
    services: server.authgate.services,
    requestInfo: {},
    sessionId: null,
    viewerStillValid: async () => true,
    // Not reached by a query; only subscriptions read the live stream.
    auditStream: { subscribe: () => ({ [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true as const, value: undefined }) }) }) },
    loaders: createLoaders(counting),
  };
}

async function usersPage(first: number) {
  const contextValue = await adminContext();
  queries.length = 0;
  const result = await execute({ schema, document: UsersDocument, variableValues: { first, filter: { search: 'user' } }, contextValue });
  expect(result.errors).toBeUndefined();
  return { data: result.data as { users: { totalCount: number; edges: { node: { username: string; activeTokenCount: number; lastLoginAt: string | null } }[] } }, count: queries.length };
}

test('10 and 50 users cost the same, small number of SQL queries', async () => {
  const small = await usersPage(10);
  const large = await usersPage(50);
  expect(small.data.users.edges).toHaveLength(10);
  expect(large.data.users.edges).toHaveLength(50);
  expect(large.data.users.totalCount).toBe(60);
  // Every user's count is right: the revoked token is not counted.
  for (const edge of large.data.users.edges) expect(edge.node.activeTokenCount).toBe(2);
  expect(large.data.users.edges.filter((e) => e.node.lastLoginAt !== null)).toHaveLength(25);
  // One query for the page, one for its token counts (one grouped query for the whole page), one for totalCount.
  expect(small.count).toBeGreaterThan(0); // the counter sees the queries at all
  expect(large.count).toBe(small.count);
  expect(large.count).toBeLessThanOrEqual(3);
});

test("a client's authorized users (with each user and client) cost the same few queries for 10 and 50 rows", async () => {
  const db = server.authgate.db;
  const client = await db.oAuthClient.findFirstOrThrow();
  const users = await db.user.findMany({ where: { username: { startsWith: 'user' } } });
  await db.userAuthorization.createMany({ data: users.map((u, i) => ({ userId: u.id, clientId: client.id, scopes: 'openid read', grantedAt: new Date(Date.now() - i * 1000) })) });
  // Through `node`, which loads with the context's (counting) client; `client(id)` goes through a service.
  const document = parse(`query ($id: ID!, $first: Int) {
    client: node(id: $id) { ... on Client { name authorizations(first: $first) { totalCount edges { node { scopes grantedAt user { username email } client { name } } } } } }
  }`);
  const page = async (first: number) => {
    const contextValue = await adminContext();
    queries.length = 0;
    const result = await execute({ schema, document, variableValues: { id: Buffer.from(`Client:${client.id}`).toString('base64'), first }, contextValue });
    expect(result.errors).toBeUndefined();
    const data = result.data as { client: { authorizations: { totalCount: number; edges: { node: { user: { username: string }; client: { name: string } } }[] } } };
    return { data, count: queries.length };
  };
  const small = await page(10);
  const large = await page(50);
  expect(large.data.client.authorizations.totalCount).toBe(60);
  expect(large.data.client.authorizations.edges).toHaveLength(50);
  // Newest first.
  expect(large.data.client.authorizations.edges.slice(0, 3).map((e) => e.node.user.username)).toEqual(['user00', 'user01', 'user02']);
  expect(small.count).toBeGreaterThan(0);
  expect(large.count).toBe(small.count);
  expect(large.count).toBeLessThanOrEqual(4);
});
