// The migrations are the only thing that builds production databases, while the generated Prisma clients are
// built from prisma/models.prisma: these tests check that the two agree, table by table and column by column,
// on both dialects, and that the runner is safe to run at every startup.
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runMigrations, type MigrationTarget } from '../../src/db/migrate.js';
import { ConfigError } from '../../src/domain/errors.js';
import { PrismaClient as SqliteClient } from '../../src/generated/sqlite/client.js';
import { PrismaClient as PostgresClient } from '../../src/generated/postgresql/client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const describePg = process.env.TEST_POSTGRES_URL ? describe : describe.skip;
/** The migrations this build ships for a dialect, in the order they apply. */
const shipped = (dialect: 'sqlite' | 'postgresql') => readdirSync(join(root, 'prisma/migrations', dialect)).sort();

// ---------------------------------------------------------------------------------------------------------
// What prisma/models.prisma promises, read from the file itself so a model added later is checked too.

interface FieldSpec {
  column: string;
  optional: boolean;
}
interface RelationSpec {
  columns: string[];
  referencedModel: string;
  referencedFields: string[];
  onDelete: string;
}
interface ModelSpec {
  name: string;
  table: string;
  fields: Map<string, FieldSpec>;
  primaryKey: string[];
  uniques: string[][];
  indexes: string[][];
  relations: RelationSpec[];
}

const SCALARS = new Set(['String', 'Int', 'Boolean', 'DateTime', 'Float', 'BigInt', 'Json', 'Decimal', 'Bytes']);
// Prisma's referential actions as the databases spell them; without onDelete, Prisma uses SetNull for an
// optional relation and Restrict for a required one.
const ACTIONS: Record<string, string> = { Cascade: 'CASCADE', SetNull: 'SET NULL', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetDefault: 'SET DEFAULT' };

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

function parseModels(text: string): ModelSpec[] {
  const source = text.replace(/\/\/.*$/gm, '');
  const enums = new Set([...source.matchAll(/^enum\s+(\w+)\s*\{/gm)].map((m) => m[1]!));
  const models: ModelSpec[] = [];
  for (const [, name, body] of source.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const model: ModelSpec = { name: name!, table: name!, fields: new Map(), primaryKey: [], uniques: [], indexes: [], relations: [] };
    const blockAttrs: string[] = [];
    const relations: { line: string; optional: boolean }[] = [];
    for (const raw of body!.split('\n')) {
      const line = raw.trim();
      if (!line) continue;
      if (line.startsWith('@@')) {
        blockAttrs.push(line);
        continue;
      }
      const [field, type = ''] = line.split(/\s+/);
      const base = type.replace(/[?[\]]/g, '');
      if (SCALARS.has(base) || enums.has(base)) {
        const column = /@map\("([^"]+)"\)/.exec(line)?.[1] ?? field!;
        model.fields.set(field!, { column, optional: type.endsWith('?') });
        if (/@id\b/.test(line)) model.primaryKey = [field!];
        if (/@unique\b/.test(line)) model.uniques.push([field!]);
      } else if (line.includes('@relation(') && line.includes('fields:')) {
        relations.push({ line, optional: type.endsWith('?') });
      }
    }
    // Block attributes and relations name fields; translate them to columns once every field is known.
    const columns = (fields: string[]) => fields.map((f) => model.fields.get(f)?.column ?? f);
    model.primaryKey = columns(model.primaryKey);
    model.uniques = model.uniques.map(columns);
    for (const attr of blockAttrs) {
      const fields = /\[([^\]]*)\]/.exec(attr)?.[1];
      if (attr.startsWith('@@map(')) model.table = /"([^"]+)"/.exec(attr)![1]!;
      else if (attr.startsWith('@@unique(')) model.uniques.push(columns(list(fields!)));
      else if (attr.startsWith('@@index(')) model.indexes.push(columns(list(fields!)));
      else if (attr.startsWith('@@id(')) model.primaryKey = columns(list(fields!));
    }
    for (const { line, optional } of relations) {
      const onDelete = /onDelete:\s*(\w+)/.exec(line)?.[1] ?? (optional ? 'SetNull' : 'Restrict');
      model.relations.push({
        columns: columns(list(/fields:\s*\[([^\]]*)\]/.exec(line)![1]!)),
        referencedModel: line.split(/\s+/)[1]!.replace(/[?[\]]/g, ''),
        referencedFields: list(/references:\s*\[([^\]]*)\]/.exec(line)![1]!),
        onDelete: ACTIONS[onDelete]!,
      });
    }
    models.push(model);
  }
  return models;
}

const models = parseModels(readFileSync(join(root, 'prisma/models.prisma'), 'utf8'));

// ---------------------------------------------------------------------------------------------------------
// What a database actually has, behind one interface so both dialects run the same assertions.

interface IndexInfo {
  columns: string[];
  unique: boolean;
  primary: boolean;
}
interface ForeignKeyInfo {
  columns: string[];
  table: string;
  referencedColumns: string[];
  onDelete: string;
}
interface Introspection {
  tables(): Promise<string[]>;
  columns(table: string): Promise<Map<string, { nullable: boolean }>>;
  indexes(table: string): Promise<IndexInfo[]>;
  foreignKeys(table: string): Promise<ForeignKeyInfo[]>;
}

function sqliteIntrospection(db: Database.Database): Introspection {
  const q = (table: string) => `"${table.replaceAll('"', '""')}"`;
  return {
    async tables() {
      return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name);
    },
    async columns(table) {
      const rows = db.prepare(`PRAGMA table_info(${q(table)})`).all() as { name: string; notnull: number; pk: number }[];
      // A SQLite primary key column may hold NULL unless declared NOT NULL, so notnull alone is the truth.
      return new Map(rows.map((r) => [r.name, { nullable: r.notnull === 0 }]));
    },
    async indexes(table) {
      const list = db.prepare(`PRAGMA index_list(${q(table)})`).all() as { name: string; unique: number; origin: string; partial: number }[];
      return list
        .filter((i) => i.partial === 0)
        .map((i) => ({
          columns: (db.prepare(`PRAGMA index_info(${q(i.name)})`).all() as { seqno: number; name: string }[])
            .sort((a, b) => a.seqno - b.seqno)
            .map((c) => c.name),
          unique: i.unique === 1,
          primary: i.origin === 'pk',
        }));
    },
    async foreignKeys(table) {
      const rows = db.prepare(`PRAGMA foreign_key_list(${q(table)})`).all() as { id: number; seq: number; table: string; from: string; to: string; on_delete: string }[];
      const byId = new Map<number, ForeignKeyInfo>();
      for (const r of rows.sort((a, b) => a.seq - b.seq)) {
        const fk = byId.get(r.id) ?? { columns: [], table: r.table, referencedColumns: [], onDelete: r.on_delete };
        fk.columns.push(r.from);
        fk.referencedColumns.push(r.to);
        byId.set(r.id, fk);
      }
      return [...byId.values()];
    },
  };
}

function postgresIntrospection(client: pg.Client): Introspection {
  const PG_ACTIONS: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
  return {
    async tables() {
      const { rows } = await client.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      return rows.map((r) => r.table_name);
    },
    async columns(table) {
      const { rows } = await client.query<{ column_name: string; is_nullable: string }>(
        `SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      );
      return new Map(rows.map((r) => [r.column_name, { nullable: r.is_nullable === 'YES' }]));
    },
    async indexes(table) {
      // Casts to text[]: pg has no parser for name[] and would hand back the raw array literal.
      const { rows } = await client.query<{ columns: string[]; unique: boolean; primary: boolean }>(
        `SELECT ix.indisunique AS unique, ix.indisprimary AS primary,
                array(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
           FROM pg_index ix
           JOIN pg_class t ON t.oid = ix.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE n.nspname = current_schema() AND t.relname = $1 AND ix.indpred IS NULL`,
        [table],
      );
      return rows;
    },
    async foreignKeys(table) {
      const { rows } = await client.query<{ columns: string[]; table: string; referenced_columns: string[]; confdeltype: string }>(
        `SELECT rt.relname::text AS table, c.confdeltype::text AS confdeltype,
                array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
                array(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS referenced_columns
           FROM pg_constraint c
           JOIN pg_class t ON t.oid = c.conrelid
           JOIN pg_class rt ON rt.oid = c.confrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
          WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1`,
        [table],
      );
      return rows.map((r) => ({ columns: r.columns, table: r.table, referencedColumns: r.referenced_columns, onDelete: PG_ACTIONS[r.confdeltype]! }));
    },
  };
}

async function expectSchemaMatchesModels(db: Introspection): Promise<void> {
  expect(models.length).toBeGreaterThanOrEqual(10);
  const tables = new Set(await db.tables());
  const tableOf = new Map(models.map((m) => [m.name, m]));
  for (const model of models) {
    // Labels every failure with the table, since the assertions run in a loop.
    const where = `${model.name} (${model.table})`;
    expect({ where, exists: tables.has(model.table) }).toEqual({ where, exists: true });

    const columns = await db.columns(model.table);
    for (const [field, spec] of model.fields) {
      expect({ where, field, column: columns.has(spec.column) }).toEqual({ where, field, column: true });
      expect({ where, field, nullable: columns.get(spec.column)!.nullable }).toEqual({ where, field, nullable: spec.optional });
    }
    expect({ where, columns: [...columns.keys()].sort() }).toEqual({ where, columns: [...model.fields.values()].map((f) => f.column).sort() });

    const indexes = await db.indexes(model.table);
    const has = (cols: string[], pred: (i: IndexInfo) => boolean) => indexes.some((i) => pred(i) && i.columns.join() === cols.join());
    expect({ where, primaryKey: has(model.primaryKey, (i) => i.primary) }).toEqual({ where, primaryKey: true });
    for (const unique of model.uniques) {
      expect({ where, unique, found: has(unique, (i) => i.unique && !i.primary) }).toEqual({ where, unique, found: true });
    }
    for (const index of model.indexes) {
      expect({ where, index, found: has(index, () => true) }).toEqual({ where, index, found: true });
    }
    // No unique index the models do not ask for (one would reject rows Prisma considers valid).
    const uniqueIndexes = indexes.filter((i) => i.unique && !i.primary).map((i) => i.columns.join());
    expect({ where, uniqueIndexes: uniqueIndexes.sort() }).toEqual({ where, uniqueIndexes: model.uniques.map((u) => u.join()).sort() });

    const fks = await db.foreignKeys(model.table);
    const expected = model.relations.map((r) => ({
      columns: r.columns,
      table: tableOf.get(r.referencedModel)!.table,
      referencedColumns: r.referencedFields.map((f) => tableOf.get(r.referencedModel)!.fields.get(f)!.column),
      onDelete: r.onDelete,
    }));
    const key = (fk: ForeignKeyInfo) => fk.columns.join();
    expect({ where, fks: [...fks].sort((a, b) => key(a).localeCompare(key(b))) }).toEqual({
      where,
      fks: expected.sort((a, b) => key(a).localeCompare(key(b))),
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// A round trip through the generated client: defaults, relations and cascades as the application sees them.

async function roundTrip(prisma: SqliteClient): Promise<void> {
  const user = await prisma.user.create({ data: { username: 'alice', email: 'alice@example.test' } });
  expect(user).toMatchObject({ role: 'user', active: true, fullName: '', authSource: 'local', emailVerified: false });
  const client = await prisma.oAuthClient.create({ data: { clientId: 'cli', name: 'CLI', createdById: user.id } });
  expect(client).toMatchObject({ clientType: 'public', approvalStatus: 'approved', tokenProfile: 'standard', redirectUris: '[]' });
  const expiresAt = new Date(Date.now() + 3_600_000);
  expiresAt.setMilliseconds(123);
  const token = await prisma.token.create({
    data: { tokenHash: 'h1', jti: 'j1', category: 'access', scopes: 'openid', grantType: 'device_code', userId: user.id, clientId: client.id, familyId: 'f1', expiresAt },
  });
  const child = await prisma.token.create({
    data: { tokenHash: 'h2', jti: 'j2', category: 'refresh', scopes: 'openid', grantType: 'refresh_token', clientId: client.id, familyId: 'f1', parentId: token.id, expiresAt },
  });

  const read = await prisma.token.findUniqueOrThrow({ where: { jti: 'j1' }, include: { user: true, client: true, children: true } });
  expect(read.status).toBe('active');
  expect(read.expiresAt.getTime()).toBe(expiresAt.getTime());
  expect(read.user?.username).toBe('alice');
  expect(read.client.clientId).toBe('cli');
  expect(read.children.map((c) => c.id)).toEqual([child.id]);
  await expect(prisma.user.create({ data: { username: 'alice' } })).rejects.toMatchObject({ code: 'P2002' });

  // onDelete actions: the parent's deletion nulls the lineage link; the user's cascades to their tokens.
  await prisma.token.delete({ where: { id: token.id } });
  expect((await prisma.token.findUniqueOrThrow({ where: { id: child.id } })).parentId).toBeNull();
  await prisma.token.update({ where: { id: child.id }, data: { userId: user.id } });
  await prisma.user.delete({ where: { id: user.id } });
  expect(await prisma.token.count()).toBe(0);
  expect((await prisma.oAuthClient.findUniqueOrThrow({ where: { id: client.id } })).createdById).toBeNull();
}

// ---------------------------------------------------------------------------------------------------------
// Scratch migration folders for the failure cases.

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'authgate-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeMigration(dir, name, sql);
  return dir;
}
function writeMigration(dir: string, name: string, sql: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'migration.sql'), sql);
}

const OK = 'CREATE TABLE "widgets" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL);\n';
// The first statement succeeds; the second fails, and must take the first one down with it.
const BROKEN = 'CREATE TABLE "gadgets" ("id" TEXT NOT NULL PRIMARY KEY);\nCREATE INDEX "gadgets_x_idx" ON "no_such_table"("x");\n';

/** Shared by both dialects: `target()` gives a fresh, empty database each time; `inspect` reads one. */
function failureTests(
  target: () => Promise<MigrationTarget>,
  inspect: (t: MigrationTarget) => Promise<{ tables: string[]; applied: string[] }>,
): void {
  test('a failing migration rolls back entirely, names itself, and is retried on the next start', async () => {
    const t = await target();
    const dir = migrationsDir({ '0001_ok': OK, '0002_broken': BROKEN });
    const err = await runMigrations(t, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/0002_broken/);
    const after = await inspect(t);
    expect(after.applied).toEqual(['0001_ok']);
    expect(after.tables).toContain('widgets');
    expect(after.tables).not.toContain('gadgets');

    writeMigration(dir, '0002_broken', 'CREATE TABLE "gadgets" ("id" TEXT NOT NULL PRIMARY KEY);\n');
    expect(await runMigrations(t, dir)).toEqual({ applied: ['0002_broken'] });
  });

  test('an applied migration whose file changed is refused, naming it', async () => {
    const t = await target();
    const dir = migrationsDir({ '0001_ok': OK });
    await runMigrations(t, dir);
    writeMigration(dir, '0001_ok', OK.replace('"name" TEXT NOT NULL', '"name" TEXT'));
    writeMigration(dir, '0002_next', 'CREATE TABLE "later" ("id" TEXT NOT NULL PRIMARY KEY);\n');
    const err = await runMigrations(t, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/0001_ok.*checksum/);
    // Refused before anything else was applied.
    expect((await inspect(t)).applied).toEqual(['0001_ok']);
  });

  test('a database that has a migration this build does not know is refused', async () => {
    const t = await target();
    await runMigrations(t, migrationsDir({ '0001_ok': OK, '0002_newer': 'CREATE TABLE "later" ("id" TEXT NOT NULL PRIMARY KEY);\n' }));
    await expect(runMigrations(t, migrationsDir({ '0001_ok': OK }))).rejects.toThrow(/0002_newer/);
  });
}

// ---------------------------------------------------------------------------------------------------------

describe('migrations on SQLite', () => {
  const freshFile = () => join(mkdtempSync(join(tmpdir(), 'authgate-migrate-')), 'nested', 'authgate.db');

  test('a fresh database gets every shipped migration once; the second run applies nothing', async () => {
    const file = freshFile();
    expect(await runMigrations({ dialect: 'sqlite', file })).toEqual({ applied: shipped('sqlite') });
    expect(await runMigrations({ dialect: 'sqlite', file })).toEqual({ applied: [] });

    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const rows = db.prepare('SELECT name, checksum, applied_at FROM _authgate_migrations').all() as { name: string; checksum: string }[];
      expect(rows).toEqual(shipped('sqlite').map((name) => expect.objectContaining({ name, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) })));
    } finally {
      db.close();
    }
  });

  test('the schema built by the migrations matches prisma/models.prisma', async () => {
    const file = freshFile();
    await runMigrations({ dialect: 'sqlite', file });
    const db = new Database(file, { readonly: true });
    try {
      await expectSchemaMatchesModels(sqliteIntrospection(db));
    } finally {
      db.close();
    }
  });

  test('the generated client round-trips users, clients and tokens', async () => {
    const file = freshFile();
    await runMigrations({ dialect: 'sqlite', file });
    const prisma = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) });
    try {
      await roundTrip(prisma);
    } finally {
      await prisma.$disconnect();
    }
  });

  // Prisma alters a SQLite table by rebuilding it; with foreign keys enforced inside the migration's
  // transaction, dropping the old `users` would cascade-delete every token and session.
  test('a table rebuild in a later migration keeps the rows that reference it', async () => {
    const file = freshFile();
    const dir = migrationsDir({ '0001_init': readFileSync(join(root, 'prisma/migrations/sqlite/0001_init/migration.sql'), 'utf8') });
    await runMigrations({ dialect: 'sqlite', file }, dir);
    const db = new Database(file);
    db.exec(`INSERT INTO users (id, username, updatedAt) VALUES ('u1', 'alice', 0);
             INSERT INTO oauth_clients (id, clientId, name, createdById, updatedAt) VALUES ('c1', 'cli', 'CLI', 'u1', 0);
             INSERT INTO tokens (id, tokenHash, jti, category, scopes, grantType, userId, clientId, familyId, expiresAt)
                  VALUES ('t1', 'h', 'j', 'access', 'openid', 'device_code', 'u1', 'c1', 'f', 0);`);
    db.close();

    writeMigration(dir, '0002_user_locale', REBUILD_USERS);
    expect(await runMigrations({ dialect: 'sqlite', file }, dir)).toEqual({ applied: ['0002_user_locale'] });

    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT id, userId FROM tokens').all()).toEqual([{ id: 't1', userId: 'u1' }]);
      expect(after.prepare('SELECT createdById FROM oauth_clients').get()).toEqual({ createdById: 'u1' });
      expect(after.prepare('SELECT locale FROM users').get()).toEqual({ locale: 'en' });
    } finally {
      after.close();
    }
  });

  test('a migration that would leave dangling references is rolled back', async () => {
    const file = freshFile();
    const dir = migrationsDir({ '0001_init': readFileSync(join(root, 'prisma/migrations/sqlite/0001_init/migration.sql'), 'utf8') });
    await runMigrations({ dialect: 'sqlite', file }, dir);
    const db = new Database(file);
    db.exec(`INSERT INTO users (id, username, updatedAt) VALUES ('u1', 'alice', 0);
             INSERT INTO sessions (id, userId, data, expiresAt, absoluteExpiresAt, updatedAt) VALUES ('s1', 'u1', '{}', 0, 0, 0);`);
    db.close();
    writeMigration(dir, '0002_bad_cleanup', `DELETE FROM users;\n`);
    await expect(runMigrations({ dialect: 'sqlite', file }, dir)).rejects.toThrow(/0002_bad_cleanup.*foreign key/);
    const after = new Database(file, { readonly: true });
    try {
      expect(after.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 1 });
    } finally {
      after.close();
    }
  });

  const sqliteInspect = async (t: MigrationTarget) => {
    const db = new Database((t as { file: string }).file, { readonly: true });
    try {
      return {
        tables: (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name),
        applied: (db.prepare('SELECT name FROM _authgate_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name),
      };
    } finally {
      db.close();
    }
  };
  failureTests(async () => ({ dialect: 'sqlite', file: freshFile() }), sqliteInspect);
});

describePg('migrations on PostgreSQL', () => {
  const databases: TestDatabase[] = [];
  const fresh = async (): Promise<MigrationTarget> => {
    const db = await createTestDatabase();
    databases.push(db);
    return { dialect: 'postgresql', url: db.url };
  };
  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const urlOf = (t: MigrationTarget) => (t as { url: string }).url;

  test('a fresh database gets every shipped migration once; the second run applies nothing', async () => {
    const t = await fresh();
    expect(await runMigrations(t)).toEqual({ applied: shipped('postgresql') });
    expect(await runMigrations(t)).toEqual({ applied: [] });
    const rows = await withClient(urlOf(t), async (c) => (await c.query('SELECT name, checksum FROM _authgate_migrations')).rows);
    expect(rows).toEqual(shipped('postgresql').map((name) => ({ name, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) })));
  });

  test('instances starting together apply each migration exactly once', async () => {
    const t = await fresh();
    const results = await Promise.all([runMigrations(t), runMigrations(t), runMigrations(t)]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(shipped('postgresql'));
  });

  test('the schema built by the migrations matches prisma/models.prisma', async () => {
    const t = await fresh();
    await runMigrations(t);
    await withClient(urlOf(t), (c) => expectSchemaMatchesModels(postgresIntrospection(c)));
  });

  test('the generated client round-trips users, clients and tokens', async () => {
    const t = await fresh();
    await runMigrations(t);
    const prisma = new PostgresClient({ adapter: new PrismaPg({ connectionString: urlOf(t) }) });
    try {
      await roundTrip(prisma as unknown as SqliteClient);
    } finally {
      await prisma.$disconnect();
    }
  });

  failureTests(fresh, (t) =>
    withClient(urlOf(t), async (c) => ({
      tables: (await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema()`)).rows.map((r) => r.t),
      applied: (await c.query<{ name: string }>('SELECT name FROM _authgate_migrations ORDER BY name')).rows.map((r) => r.name),
    })),
  );
});

// What prisma/diff.mjs produced for adding `locale String @default("en")` to User.
const REBUILD_USERS = `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_users" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "username" TEXT NOT NULL,
    "email" TEXT,
    "fullName" TEXT NOT NULL DEFAULT '',
    "passwordHash" TEXT,
    "role" TEXT NOT NULL DEFAULT 'user',
    "active" BOOLEAN NOT NULL DEFAULT true,
    "authSource" TEXT NOT NULL DEFAULT 'local',
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "lastLoginAt" DATETIME,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_users" ("active", "authSource", "createdAt", "email", "emailVerified", "fullName", "id", "lastLoginAt", "passwordHash", "role", "updatedAt", "username") SELECT "active", "authSource", "createdAt", "email", "emailVerified", "fullName", "id", "lastLoginAt", "passwordHash", "role", "updatedAt", "username" FROM "users";
DROP TABLE "users";
ALTER TABLE "new_users" RENAME TO "users";
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
`;
