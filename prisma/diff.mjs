// Writes the SQL of a new migration, for each dialect, after prisma/models.prisma was edited:
//
//   node prisma/diff.mjs 0002_add_something
//
// creates prisma/migrations/{sqlite,postgresql}/0002_add_something/migration.sql holding the difference
// between what the existing migrations build and what the models describe (a dialect with no change
// gets no folder). Review the SQL before committing it: Prisma may drop and recreate where a rename was meant.
//
// Why Prisma 6.19.3 and not the project's Prisma 7: Prisma 7's `migrate diff` needs a native schema
// engine that it downloads, and there is no internet here. Prisma 6.19.3 with `engine: "js"` and a
// driver adapter runs its Wasm schema engine instead. It is installed once, outside package.json, into
// node_modules/.cache/authgate-prisma6 (from the npm registry, which is reachable).
//
// Replaying the existing migrations needs a scratch ("shadow") database: SQLite uses an in-memory one;
// PostgreSQL creates and drops a temporary database on the server named by DIFF_POSTGRES_URL
// (default postgresql://postgres@127.0.0.1:5432/postgres), which must allow CREATE DATABASE.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PRISMA6 = '6.19.3';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name || !/^\d{4}_[a-z0-9_]+$/.test(name)) {
  console.error('usage: node prisma/diff.mjs NNNN_snake_case_name   (e.g. 0002_add_login_attempts)');
  process.exit(2);
}

const tools = join(root, 'node_modules/.cache/authgate-prisma6');
const prismaCli = join(tools, 'node_modules/prisma/build/index.js');
const installedVersion = () => {
  try {
    return JSON.parse(readFileSync(join(tools, 'node_modules/prisma/package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
};
if (installedVersion() !== PRISMA6) {
  mkdirSync(tools, { recursive: true });
  const deps = { prisma: PRISMA6, '@prisma/adapter-pg': PRISMA6, '@prisma/adapter-better-sqlite3': PRISMA6 };
  writeFileSync(join(tools, 'package.json'), JSON.stringify({ private: true, type: 'module', dependencies: deps }, null, 2));
  console.error(`installing prisma@${PRISMA6} into ${tools} (once; builds better-sqlite3, takes a few minutes)`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tools, stdio: 'inherit' });
}

const pgUrl = new URL(process.env.DIFF_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
// Discrete fields, not connectionString: pg lets a connectionString override `database`, which would make
// the adapter's shadow database silently be the server's main one, and the migrations land there.
const pgConfig = {
  host: pgUrl.hostname,
  port: Number(pgUrl.port || 5432),
  user: decodeURIComponent(pgUrl.username) || undefined,
  password: decodeURIComponent(pgUrl.password) || undefined,
  database: decodeURIComponent(pgUrl.pathname.slice(1)) || 'postgres',
};
// Prisma 6.19.3's adapters break the replay of migrations into a shadow database, hence the wrappers:
// - SQLite: each migration script goes through executeRaw, which better-sqlite3 limits to one statement;
// - PostgreSQL: the shadow database is dropped while the adapter's own pool is still connected to it, and
//   introspecting it fails on catalog columns of type name (oid 19) and "char" (oid 18), which the adapter
//   does not map although they arrive as plain strings.
const adapters = {
  sqlite: `import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
const base = new PrismaBetterSQLite3({ url: ':memory:' });
const adapter = async () => ({
  provider: base.provider,
  adapterName: base.adapterName,
  connect: () => base.connect(),
  async connectToShadowDb() {
    const db = await base.connectToShadowDb();
    const single = db.executeRaw.bind(db);
    db.executeRaw = (q) => (q.args.length ? single(q) : db.executeScript(q.sql).then(() => 0));
    return db;
  },
});`,
  postgresql: `import { PrismaPg } from '@prisma/adapter-pg';
const config = ${JSON.stringify(pgConfig)};
const base = new PrismaPg(config);
const adapter = async () => ({
  provider: base.provider,
  adapterName: base.adapterName,
  connect: () => base.connect(),
  async connectToShadowDb() {
    const admin = await base.connect();
    const name = 'authgate_shadow_' + crypto.randomUUID().replaceAll('-', '');
    await admin.executeScript('CREATE DATABASE "' + name + '"');
    const db = await new PrismaPg({ ...config, database: name }).connect();
    const io = db.performIO.bind(db);
    db.performIO = async (q) => {
      const result = await io(q);
      for (const field of result.fields ?? []) if (field.dataTypeID === 18 || field.dataTypeID === 19) field.dataTypeID = 25;
      return result;
    };
    const close = db.dispose.bind(db);
    db.dispose = async () => {
      await close();
      await admin.executeScript('DROP DATABASE "' + name + '" WITH (FORCE)');
      await admin.dispose();
    };
    return db;
  },
});`,
};

const models = readFileSync(join(root, 'prisma/models.prisma'), 'utf8');
const results = [];
for (const dialect of ['sqlite', 'postgresql']) {
  const work = join(tools, dialect);
  mkdirSync(work, { recursive: true });
  // Prisma 6 insists on a url in the schema even though the adapter is what connects.
  writeFileSync(join(work, 'schema.prisma'), `datasource db {\n  provider = "${dialect}"\n  url = "${dialect}://unused"\n}\n\n${models}`);
  writeFileSync(
    join(work, 'prisma.config.mjs'),
    `import { defineConfig } from 'prisma/config';\n${adapters[dialect]}\n` +
      `export default defineConfig({ experimental: { adapter: true }, engine: 'js', schema: ${JSON.stringify(join(work, 'schema.prisma'))}, adapter });\n`,
  );

  const migrations = join(root, 'prisma/migrations', dialect);
  const previous = existsSync(migrations) ? readdirSync(migrations).filter((d) => existsSync(join(migrations, d, 'migration.sql'))) : [];
  if (previous.includes(name)) {
    console.error(`${dialect}: ${name} already exists; pick the next number`);
    process.exit(1);
  }
  // Prisma reads the dialect from a migration_lock.toml that the runner does not need: replay a copy that has one.
  const replay = join(work, 'migrations');
  rmSync(replay, { recursive: true, force: true });
  mkdirSync(replay, { recursive: true });
  for (const d of previous) cpSync(join(migrations, d, 'migration.sql'), join(replay, d, 'migration.sql'));
  writeFileSync(join(replay, 'migration_lock.toml'), `provider = "${dialect}"\n`);
  const from = previous.length ? ['--from-migrations', replay] : ['--from-empty'];
  const sql = execFileSync(
    process.execPath,
    [prismaCli, 'migrate', 'diff', ...from, '--to-schema-datamodel', join(work, 'schema.prisma'), '--script', '--config', join(work, 'prisma.config.mjs')],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        // Never loaded with engine "js", but Prisma 6 checks that it points at a file instead of downloading it.
        PRISMA_QUERY_ENGINE_LIBRARY: process.env.PRISMA_QUERY_ENGINE_LIBRARY ?? prismaCli,
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        CHECKPOINT_DISABLE: '1',
      },
    },
  );
  results.push({ dialect, sql, out: join(migrations, name, 'migration.sql') });
}
// Written only once both dialects succeeded, so a failure never leaves one dialect a migration ahead.
for (const { dialect, sql, out } of results) {
  if (/^-- This is an empty migration\.\s*$/.test(sql.trim())) {
    console.error(`${dialect}: no change`);
    continue;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, sql);
  console.error(`${dialect}: wrote ${out}`);
}
