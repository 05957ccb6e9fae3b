// Scenario 6's data: users, tokens spread over them and a few clients, and audit events spread over
// two months and many types, written straight into the database of a stopped server (the server
// created the tables and its admin and CLI client on a first start). The rows are generated once, in
// JavaScript, from a seeded random generator, so SQLite and PostgreSQL get the same data; only the
// writer differs: better-sqlite3 prepared statements in one transaction, or PostgreSQL INSERT … SELECT
// FROM unnest(column arrays) in chunks of 20,000 rows in one transaction (a handful of statements per
// table instead of one per row). Table and column names are the migrations' (prisma/migrations/*).
import { createHash, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import bcrypt from 'bcryptjs';
import pg from 'pg';

const DAY = 86_400_000;
const CHUNK = 20_000;

/** Deterministic random numbers (mulberry32): the same data on every run and both databases. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A time-ordered UUID (version 7 layout) for rows inserted in time order: the primary key index grows at its end. */
function uuid7(ms, rnd) {
  const hex = ms.toString(16).padStart(12, '0');
  const r = () => Math.floor(rnd() * 0x10000).toString(16).padStart(4, '0');
  const variant = (0x8000 | Math.floor(rnd() * 0x4000)).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${r().slice(1)}-${variant}-${r()}${r()}${r()}`;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'John', 'Margaret', 'Ken', 'Radia', 'Linus', 'Sophie', 'Tim', 'Anita', 'Dennis', 'Hedy', 'Niklaus', 'Karen', 'Guido'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'McCarthy', 'Hamilton', 'Thompson', 'Perlman', 'Torvalds', 'Wilson', 'Berners-Lee', 'Borg', 'Ritchie', 'Lamarr', 'Wirth', 'Sparck Jones', 'van Rossum'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15', 'authgate-cli/1.4.2 (linux; amd64)', 'python-requests/2.32.3', 'Go-http-client/1.1'];
// Audit event types with rough frequencies: token issuance dominates, as it does on a live server.
const EVENT_MIX = [
  ['ACCESS_TOKEN_ISSUED', 50, 'INFO', true],
  ['TOKEN_REFRESHED', 14, 'INFO', true],
  ['AUTHENTICATION_SUCCESS', 10, 'INFO', true],
  ['AUTHENTICATION_FAILURE', 4, 'WARNING', false],
  ['DEVICE_CODE_GENERATED', 6, 'INFO', true],
  ['AUTHORIZATION_CODE_ISSUED', 6, 'INFO', true],
  ['CONSENT_GRANTED', 3, 'INFO', true],
  ['TOKEN_REVOKED', 3, 'INFO', true],
  ['LOGOUT', 2, 'INFO', true],
  ['CLIENT_AUTHENTICATION_FAILURE', 1, 'WARNING', false],
  ['REFRESH_TOKEN_REUSE', 0.5, 'CRITICAL', false],
  ['PASSWORD_CHANGED', 0.5, 'INFO', true],
];
const MIX_TOTAL = EVENT_MIX.reduce((n, e) => n + e[1], 0);
const DETAILS_OK = JSON.stringify({ scope: 'openid profile email' });
const DETAILS_FAILED = JSON.stringify({ reason: 'invalid credentials' });

// Column order of each table as written here, and the PostgreSQL type of each column for unnest().
const TABLES = {
  oauth_clients: {
    id: 'text', clientId: 'text', clientSecretHash: 'text', name: 'text', description: 'text', clientType: '"ClientType"', redirectUris: 'text', allowedScopes: 'text',
    enableDeviceFlow: 'boolean', enableAuthCodeFlow: 'boolean', enableClientCredentials: 'boolean', tokenProfile: '"TokenProfile"', active: 'boolean',
    approvalStatus: '"ApprovalStatus"', isServiceAccount: 'boolean', createdAt: 'timestamp(3)', updatedAt: 'timestamp(3)',
  },
  users: {
    id: 'text', username: 'text', email: 'text', fullName: 'text', passwordHash: 'text', role: '"Role"', active: 'boolean', authSource: 'text',
    emailVerified: 'boolean', lastLoginAt: 'timestamp(3)', createdAt: 'timestamp(3)', updatedAt: 'timestamp(3)',
  },
  tokens: {
    id: 'text', tokenHash: 'text', jti: 'text', category: '"TokenCategory"', status: '"TokenStatus"', scopes: 'text', audience: 'text', grantType: 'text',
    userId: 'text', clientId: 'text', familyId: 'text', authTime: 'timestamp(3)', expiresAt: 'timestamp(3)', lastUsedAt: 'timestamp(3)', revokedAt: 'timestamp(3)', createdAt: 'timestamp(3)',
  },
  audit_events: {
    id: 'text', eventType: 'text', severity: '"Severity"', success: 'boolean', actorUserId: 'text', actorUsername: 'text', subjectType: 'text', subjectId: 'text',
    clientId: 'text', ipAddress: 'text', userAgent: 'text', details: 'text', createdAt: 'timestamp(3)',
  },
};

/** The rows, table by table and in chunks: { table, rows: [[…column values in TABLES order]] }. */
export function* generate({ users, tokens, auditEvents }, existingClient, passwordHash) {
  const rnd = random(20240610);
  const now = Date.now();
  const pick = (list) => list[Math.floor(rnd() * list.length)];

  // Three more clients beside the seeded CLI client: a service calling with client_credentials, a web
  // app with authorization code, a second device-flow tool.
  const clients = [
    { id: existingClient.id, clientId: existingClient.clientId, kinds: ['device_code', 'refresh_token'] },
    { id: randomUUID(), clientId: randomUUID(), name: 'Billing service', type: 'confidential', cc: true, code: false, device: false, kinds: ['client_credentials'] },
    { id: randomUUID(), clientId: randomUUID(), name: 'Intranet portal', type: 'confidential', cc: false, code: true, device: false, kinds: ['authorization_code', 'refresh_token'] },
    { id: randomUUID(), clientId: randomUUID(), name: 'Deploy tool', type: 'public', cc: false, code: false, device: true, kinds: ['device_code', 'refresh_token'] },
  ];
  yield {
    table: 'oauth_clients',
    rows: clients.slice(1).map((c) => {
      const created = new Date(now - 200 * DAY);
      return [
        c.id, c.clientId, c.type === 'confidential' ? createHash('sha256').update(c.clientId).digest('hex') : null, c.name, `Seeded for the bench: ${c.name}`, c.type,
        JSON.stringify(c.code ? ['https://intranet.example.test/callback'] : []), 'openid profile email offline_access read write', c.device, c.code, c.cc, 'standard', true,
        'approved', false, created, created,
      ];
    }),
  };

  const people = [];
  for (let start = 0; start < users; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(users, start + CHUNK); i++) {
      const first = FIRST[i % FIRST.length];
      const last = LAST[Math.floor(i / FIRST.length) % LAST.length];
      const username = `${first}.${last}.${i}`.toLowerCase().replace(/[^a-z0-9.]/g, '');
      const created = new Date(now - rnd() * 365 * DAY);
      const external = i % 10 === 0;
      const user = { id: randomUUID(), username };
      people.push(user);
      rows.push([
        user.id, username, `${username}@example.test`, `${first} ${last}`, external ? null : passwordHash, i % 100 === 0 ? 'admin' : 'user', i % 25 !== 0,
        external ? 'github' : 'local', rnd() < 0.7, rnd() < 0.8 ? new Date(now - rnd() * 30 * DAY) : null, created, new Date(created.getTime() + rnd() * 30 * DAY),
      ]);
    }
    yield { table: 'users', rows };
  }

  // Tokens issued over the last six days (housekeeping deletes tokens a week past expiry: none of these
  // go during the run). About 70 % access tokens, mostly active.
  for (let start = 0; start < tokens; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(tokens, start + CHUNK); i++) {
      const client = clients[i % clients.length];
      const grantType = pick(client.kinds);
      const machine = grantType === 'client_credentials';
      const category = !machine && grantType !== 'refresh_token' && rnd() < 0.35 ? 'refresh' : 'access';
      const created = now - rnd() * 6 * DAY;
      const expires = created + (category === 'refresh' ? 30 * DAY : machine ? 3_600_000 : 10 * 3_600_000);
      const r = rnd();
      const status = r < 0.08 ? 'revoked' : r < 0.1 ? 'disabled' : 'active';
      rows.push([
        randomUUID(), createHash('sha256').update(`bench-token-${i}-${rnd()}`).digest('hex'), randomUUID(), category, status, machine ? 'read' : 'openid profile email offline_access',
        '', grantType, machine ? null : people[Math.floor(rnd() * people.length)].id, client.id, randomUUID(), machine ? null : new Date(created),
        new Date(expires), rnd() < 0.5 ? new Date(created + rnd() * Math.max(0, Math.min(expires, now) - created)) : null, status === 'revoked' ? new Date(created + rnd() * (now - created)) : null,
        new Date(created),
      ]);
    }
    yield { table: 'tokens', rows };
  }

  // Audit events over the last 60 days in time order (retention is 90 days: housekeeping deletes none).
  const span = 60 * DAY;
  for (let start = 0; start < auditEvents; start += CHUNK) {
    const rows = [];
    for (let i = start; i < Math.min(auditEvents, start + CHUNK); i++) {
      const at = Math.floor(now - span + (i / auditEvents) * span + rnd() * 1000);
      let x = rnd() * MIX_TOTAL;
      const [type, , severity, success] = EVENT_MIX.find((e) => (x -= e[1]) < 0) ?? EVENT_MIX[0];
      const actor = people[Math.floor(rnd() * people.length)];
      const client = pick(clients);
      const machine = type === 'ACCESS_TOKEN_ISSUED' && rnd() < 0.2;
      rows.push([
        uuid7(at, rnd), type, severity, success, machine ? null : actor.id, machine ? `client:${client.clientId}` : actor.username,
        type.includes('TOKEN') ? 'token' : type.startsWith('DEVICE') ? 'device_code' : 'user', type.includes('TOKEN') ? randomUUID() : actor.id, client.clientId,
        `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.${1 + Math.floor(rnd() * 254)}`, pick(AGENTS),
        success ? DETAILS_OK : DETAILS_FAILED, new Date(at),
      ]);
    }
    yield { table: 'audit_events', rows };
  }
}

/** One bcrypt hash (the server's cost, 10) shared by the seeded local accounts: nobody signs in as them. */
const seededPasswordHash = () => bcrypt.hashSync(randomUUID(), 10);

export async function seedSqlite(file, counts) {
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    const cli = db.prepare(`SELECT "id", "clientId" FROM "oauth_clients" WHERE "name" = 'AuthGate CLI'`).get();
    const statements = new Map(
      Object.entries(TABLES).map(([table, columns]) => {
        const names = Object.keys(columns);
        return [table, db.prepare(`INSERT INTO "${table}" (${names.map((n) => `"${n}"`).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`)];
      }),
    );
    // SQLite as Prisma's better-sqlite3 adapter stores them: ISO-8601 text with +00:00, booleans 0/1.
    const value = (v) => (v instanceof Date ? v.toISOString().replace('Z', '+00:00') : typeof v === 'boolean' ? (v ? 1 : 0) : v);
    db.transaction(() => {
      for (const { table, rows } of generate(counts, cli, seededPasswordHash())) {
        const insert = statements.get(table);
        for (const row of rows) insert.run(row.map(value));
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Fresh statistics for the planner, as a database that had grown to this size would have.
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

export async function seedPostgres(url, counts) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const cli = (await client.query(`SELECT "id", "clientId" FROM "oauth_clients" WHERE "name" = 'AuthGate CLI'`)).rows[0];
    await client.query('BEGIN');
    for (const { table, rows } of generate(counts, cli, seededPasswordHash())) {
      const columns = Object.entries(TABLES[table]);
      // One array per column; PostgreSQL zips them back into rows.
      const arrays = columns.map((_, c) => rows.map((row) => (row[c] instanceof Date ? row[c].toISOString() : row[c])));
      const names = columns.map(([n]) => `"${n}"`).join(', ');
      const unnest = columns.map(([, type], c) => `$${c + 1}::${type}[]`).join(', ');
      await client.query(`INSERT INTO "${table}" (${names}) SELECT * FROM unnest(${unnest})`, arrays);
    }
    await client.query('COMMIT');
    await client.query('ANALYZE');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
}
