// npm run bench [-- --quick]: this server (built, ES256, audit on) on SQLite — and on PostgreSQL as well
// when BENCH_DATABASE_URL is set, in a fresh database created on that server for the run — against
// node-oidc-provider 9 (in-memory adapter, ES256 JWT access tokens) in the same run, over real HTTP on
// loopback, with the same load generator (autocannon) at the same concurrency. Prints one table and
// writes it as JSON under test/bench/results/.
//
// Exit status: non-zero when any scenario had any error (a wrong status or body, a connection error,
// a timeout, a scenario that could not run), in both modes. Unmet speed targets are reported, never
// fatal: the numbers depend on the machine and whatever else it is doing.
//
// Environment: BENCH_CONCURRENCY (autocannon connections, default 32), BENCH_DURATION_S (seconds per
// measured round, default 10, --quick 2), BENCH_ADMIN_CONCURRENCY (scenario 6, default 1),
// BENCH_DATABASE_URL (postgresql://…: also run on PostgreSQL; only CREATE/DROP DATABASE touch it).
import { readFileSync } from 'node:fs';
import { authGate, createPgDatabase, killAll, startPeer } from './servers.mjs';
import { adminUsersPage, clientCredentials, createAdminInstances, devicePolling, introspection, loginsUnderLoad, memory, prepareOurs, preparePeer, tokenInfo } from './scenarios.mjs';
import { machine, printTable, writeResults } from './report.mjs';

const quick = process.argv.includes('--quick');
const positive = (name, fallback) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`${name} must be a positive number, not ${JSON.stringify(raw)}`);
  return n;
};
const cfg = {
  mode: quick ? 'quick' : 'full',
  concurrency: positive('BENCH_CONCURRENCY', 32),
  durationS: positive('BENCH_DURATION_S', quick ? 2 : 10),
  warmS: quick ? 1 : 2,
  rounds: 2,
  deviceCodes: quick ? 500 : 10_000,
  devicePollS: quick ? 8 : 60,
  logins: 20,
  adminConcurrency: positive('BENCH_ADMIN_CONCURRENCY', 1),
  seed: quick ? { users: 1_000, tokens: 10_000, auditEvents: 50_000 } : { users: 10_000, tokens: 100_000, auditEvents: 1_000_000 },
  // BENCH_ONLY=4,6 re-measures some scenarios (while working on them); the README's table is always a whole run.
  only: process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map(Number)) : null,
};
const pgBase = process.env.BENCH_DATABASE_URL || null;
if (pgBase && !/^postgres(ql)?:\/\//.test(pgBase)) throw new Error('BENCH_DATABASE_URL must be a postgresql:// URL');

const started = Date.now();
const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
const log = (msg) => console.log(`[bench ${elapsed()}] ${msg}`);
cfg.log = log;

// Everything to undo at the end, last first: server processes, temporary directories, databases.
const cleanups = [];
let cleaning = null;
async function cleanup() {
  cleaning ??= (async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()();
      } catch (err) {
        console.error(`cleanup: ${err.message}`);
      }
    }
    killAll();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the servers and dropping the bench databases`);
    cleanup().finally(() => process.exit(130));
  });
}

const rows = [];
/** Runs one scenario; an exception becomes an error row (the run goes on and fails at the end). */
async function scenario(id, name, databases, fn) {
  if (cfg.only && !cfg.only.has(id)) return;
  log(`scenario ${id}: ${name}`);
  try {
    const result = await fn();
    rows.push(...result);
    for (const r of result) {
      const samples = [...(r.ours?.error_samples ?? []), ...(r.ours?.logins?.samples ?? []), ...(r.peer?.error_samples ?? []).map((e) => `peer: ${e}`)];
      if (r.errors) log(`  ${r.database}: ${r.errors} errors, e.g. ${JSON.stringify(samples.slice(0, 5))}`);
    }
  } catch (err) {
    console.error(err);
    for (const database of databases) rows.push({ id, scenario: name, database, ours: { failed: err.message }, peer: null, ratio: null, target: '—', met: false, errors: 1 });
  }
}

let ok = false;
try {
  log(`${cfg.mode} run: ${cfg.concurrency} connections, ${cfg.durationS} s × ${cfg.rounds} rounds after ${cfg.warmS} s warm-up; SQLite${pgBase ? ' and PostgreSQL' : ''}`);
  // The protocol scenarios' processes (1–5, and 7's memory): one per database, plus the peer.
  const databases = [{ database: 'sqlite' }];
  if (pgBase) {
    databases.push({
      database: 'postgresql',
      makeUrl: async () => {
        const db = await createPgDatabase(pgBase, 'run');
        cleanups.push(() => db.drop());
        return db;
      },
    });
  }
  const servers = [];
  for (const d of databases) {
    const db = d.makeUrl ? await d.makeUrl() : null;
    const server = authGate({ label: `authgate (${d.database})`, databaseUrl: db?.url });
    cleanups.push(() => server.remove());
    servers.push(server);
  }
  // Scenario 6 runs on instances and databases of its own (see adminUsersPage).
  const adminDatabases = databases.map((d) => ({
    database: d.database,
    makeUrl:
      d.makeUrl &&
      (async () => {
        const db = await createPgDatabase(pgBase, 'admin');
        cleanups.push(() => db.drop()); // if interrupted; dropping twice is harmless (IF EXISTS)
        return db;
      }),
  }));
  // Everything starts at once: startup is mostly waiting (migrations, the first queries).
  const [peerServer, adminInstances] = await Promise.all([
    startPeer(),
    createAdminInstances(adminDatabases, (undo) => cleanups.push(undo)),
    ...servers.map((s) => s.start()),
  ]);
  cleanups.push(() => peerServer.stop());
  const ours = await Promise.all(servers.map(prepareOurs));
  const peer = await preparePeer(peerServer);
  cleanups.push(() => [...ours, peer].forEach((t) => t.http.close()));
  log(`peer: its own JWT access token at its introspection endpoint → ${peer.jwtIntrospection}`);
  const names = ours.map((t) => t.database);

  await scenario(1, 'client_credentials issuance', names, () => clientCredentials(ours, peer, cfg));
  await scenario(2, 'introspection (active token)', names, () => introspection(ours, peer, cfg));
  await scenario(3, 'tokeninfo', names, () => tokenInfo(ours, cfg));
  await scenario(4, 'device polling', names, () => devicePolling(ours, cfg));
  await scenario(5, 'logins under client_credentials load', names, () => loginsUnderLoad(ours, cfg));
  await scenario(6, 'admin users page', names, () => adminUsersPage(adminInstances, cfg));
  await scenario(7, 'resident memory', names, async () => memory(ours, peer));

  // A process that died, or logged errors (the server runs at LOG_LEVEL=error), is reported.
  const serverLog = Object.fromEntries(servers.map((s) => [s.label, { error_lines: s.errorLines().length, died: s.died(), samples: s.errorLines().slice(0, 5) }]));
  if (peerServer.died()) rows.push({ id: 7, scenario: 'peer process died', database: '—', ours: null, peer: { failed: 'exited during the run' }, ratio: null, target: '—', met: false, errors: 1 });
  for (const s of servers) if (s.died()) rows.push({ id: 7, scenario: 'server process died', database: s.dialect, ours: { failed: 'exited during the run' }, peer: null, ratio: null, target: '—', met: false, errors: 1 });

  const dbOrder = (r) => ['sqlite', 'postgresql'].indexOf(r.database) >>> 0;
  rows.sort((a, b) => a.id - b.id || dbOrder(a) - dbOrder(b));
  console.log('');
  printTable(rows);
  for (const [label, l] of Object.entries(serverLog)) if (l.error_lines) console.log(`\n${label} logged ${l.error_lines} error lines, e.g.:\n  ${l.samples.join('\n  ')}`);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const file = writeResults({
    date: new Date().toISOString(),
    mode: cfg.mode,
    machine: machine(),
    config: { ...cfg, log: undefined, databases: names },
    peer: {
      name: 'node-oidc-provider',
      version: JSON.parse(readFileSync('node_modules/oidc-provider/package.json', 'utf8')).version,
      notes: [
        'in-memory (development) adapter; client_credentials with resource= → ES256 JWT access tokens (features.resourceIndicators, accessTokenFormat jwt)',
        `introspection: node-oidc-provider 9 does not introspect its JWT access tokens (${peer.jwtIntrospection}); scenario 2 introspects an opaque client_credentials token (issued without resource=)`,
      ],
    },
    server_log: serverLog,
    duration_s: Math.round((Date.now() - started) / 1000),
    errors,
    scenarios: rows,
  });
  console.log(`\n${rows.filter((r) => r.met).length}/${rows.length} targets met, ${errors} errors, ${elapsed()}; results: ${file}${cfg.only ? ' (BENCH_ONLY: not a whole run)' : ''}`);
  ok = errors === 0;
} catch (err) {
  console.error(err);
} finally {
  await cleanup();
}
process.exit(ok ? 0 : 1);
