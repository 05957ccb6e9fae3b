// npm run bench: starts the built server on a fresh database (SQLite by default, PostgreSQL with
// BENCH_DATABASE_URL) and measures the hot protocol paths over real HTTP on loopback with bounded,
// keep-alive load: throughput, latency percentiles and memory. Results are printed and written to
// test/bench/results/ (not committed). Numbers are for this machine; compare runs, not machines.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const REGISTRATION_TOKEN = 'bench-registration-token-'.padEnd(48, 'x');

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
// The server runs in its own process, as in production, so the load generator does not share its core.
const dataDir = mkdtempSync(join(tmpdir(), 'authgate-bench-'));
const database = process.env.BENCH_DATABASE_URL ? 'postgresql' : 'sqlite';
const child = spawn(process.execPath, ['dist/main.js'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: {
    ...process.env,
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    BASE_URL: `http://127.0.0.1:${port}`,
    LOG_LEVEL: 'error',
    ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
    DYNAMIC_CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN,
    ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
  },
});
for (let i = 0; ; i++) {
  const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
  if (ok) break;
  if (i > 100) throw new Error('server did not start');
  await new Promise((r) => setTimeout(r, 100));
}
const cliClientId = /client_id: (.*)/.exec(readFileSync(join(dataDir, 'authgate-credentials.txt'), 'utf8'))[1];
const registered = await fetch(`http://127.0.0.1:${port}/oauth/register`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
  body: JSON.stringify({ client_name: 'bench', grant_types: ['client_credentials'], scope: 'openid' }),
}).then((r) => r.json());
const basic = 'Basic ' + Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64');
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(name, makeRequest) {
  const latencies = [];
  let errors = 0;
  const until = Date.now() + DURATION_MS;
  const worker = async () => {
    while (Date.now() < until) {
      const t0 = process.hrtime.bigint();
      const res = await makeRequest();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status >= 400) errors++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
  return { name, requests: latencies.length, errors, rps: Math.round(latencies.length / seconds), p50_ms: pct(50), p99_ms: pct(99) };
}

const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: basic };
const issued = await call('POST', '/oauth/token', form, 'grant_type=client_credentials');
const accessToken = JSON.parse(issued.body).access_token;

const results = [];
results.push(await load('POST /oauth/token (client_credentials)', () => call('POST', '/oauth/token', form, 'grant_type=client_credentials')));
results.push(await load('GET /oauth/tokeninfo', () => call('GET', '/oauth/tokeninfo', { authorization: `Bearer ${accessToken}` })));
results.push(await load('POST /oauth/introspect', () => call('POST', '/oauth/introspect', form, `token=${accessToken}`)));
results.push(await load('POST /oauth/device/code', () => call('POST', '/oauth/device/code', { 'content-type': 'application/x-www-form-urlencoded' }, `client_id=${cliClientId}&scope=read`)));
results.push(await load('GET /.well-known/openid-configuration', () => call('GET', '/.well-known/openid-configuration', {})));

// The server's resident memory after the run (Linux /proc), the number that matters in production.
const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
const summary = { date: new Date().toISOString(), database, concurrency: CONCURRENCY, duration_ms_per_case: DURATION_MS, server_rss_mb: Math.round(rssKb / 1024), results };
console.table(results);
console.log(`database=${database} concurrency=${CONCURRENCY} server RSS after the run=${summary.server_rss_mb}MB`);
const outDir = join(process.cwd(), 'test/bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `bench-${summary.database}-${Date.now()}.json`), JSON.stringify(summary, null, 2));

agent.destroy();
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
rmSync(dataDir, { recursive: true, force: true });
