import { PrismaClient } from '../../src/generated/sqlite/client.js';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

test('prisma works', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ag-')), 'x.db');
  const raw = new Database(file);
  raw.exec('CREATE TABLE signing_keys (id TEXT PRIMARY KEY, kid TEXT UNIQUE NOT NULL, alg TEXT NOT NULL, status TEXT NOT NULL DEFAULT \'active\', publicJwk TEXT, createdAt DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, retiredAt DATETIME)');
  raw.close();
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file:' + file }) });
  const k = await prisma.signingKey.create({ data: { kid: 'a', alg: 'HS256' } });
  expect(k.status).toBe('active');
  await prisma.$disconnect();
});
