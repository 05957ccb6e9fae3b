// npm run bench: starts the built server in its own process on a fresh database (SQLite by default,
// PostgreSQL with BENCH_DATABASE_URL) and measures the hot protocol paths over real HTTP on loopback
// with bounded keep-alive load (BENCH_CONCURRENCY workers for BENCH_DURATION_MS per case): throughput,
// latency percentiles, the server's resident memory. Then the same load against node-oidc-provider
// (in-memory state) as a baseline. Results are printed and written to test/bench/results/ (ignored by
// git). Numbers are for this machine: compare runs, not machines.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const database = process.env.BENCH_DATABASE_URL ? 'postgresql' : 'sqlite';

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts a server process (never in this one, so the load generator does not share its core). */
async function startProcess(args, env, port) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env, PORT: String(port) } });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (up) return child;
    if (i > 100) throw new Error(`${args.join(' ')} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopProcess(child) {
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return Math.round(rssKb / 1024);
}

function client(port) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const call = (method, path, headers, body) =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
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

const formHeaders = (id, secret) => ({
  'content-type': 'application/x-www-form-urlencoded',
  authorization: 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64'),
});

async function benchAuthGate() {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'authgate-bench-'));
  const registrationToken = randomBytes(32).toString('base64url');
  const child = await startProcess(
    ['dist/main.js'],
    {
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      BASE_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'error',
      ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
      DYNAMIC_CLIENT_REGISTRATION_TOKEN: registrationToken,
      // The bench is one address and a few clients sending thousands of requests: the per-endpoint
      // request limits (on by default) would measure themselves.
      ENABLE_RATE_LIMIT: 'false',
      ...(process.env.BENCH_DATABASE_URL ? { DATABASE_URL: process.env.BENCH_DATABASE_URL } : {}),
    },
    port,
  );
  const { call, close } = client(port);
  const cliClientId = /client_id: (.*)/.exec(readFileSync(join(dataDir, 'authgate-credentials.txt'), 'utf8'))[1];
  const registered = JSON.parse(
    (
      await call(
        'POST',
        '/oauth/register',
        { 'content-type': 'application/json', authorization: `Bearer ${registrationToken}` },
        JSON.stringify({ client_name: 'bench', grant_types: ['client_credentials'], scope: 'openid' }),
      )
    ).body,
  );
  const form = formHeaders(registered.client_id, registered.client_secret);
  const accessToken = JSON.parse((await call('POST', '/oauth/token', form, 'grant_type=client_credentials')).body).access_token;
  const results = [
    await load('POST /oauth/token (client_credentials)', () => call('POST', '/oauth/token', form, 'grant_type=client_credentials')),
    await load('POST /oauth/introspect', () => call('POST', '/oauth/introspect', form, `token=${accessToken}`)),
    await load('GET /oauth/tokeninfo', () => call('GET', '/oauth/tokeninfo', { authorization: `Bearer ${accessToken}` })),
    await load('POST /oauth/device/code', () =>
      call('POST', '/oauth/device/code', { 'content-type': 'application/x-www-form-urlencoded' }, `client_id=${cliClientId}&scope=read`),
    ),
    await load('GET /.well-known/openid-configuration', () => call('GET', '/.well-known/openid-configuration', {})),
  ];
  close();
  const rssMb = await stopProcess(child);
  rmSync(dataDir, { recursive: true, force: true });
  return { server: `authgate (${database})`, rss_mb: rssMb, results };
}

async function benchOidcProvider() {
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const child = await startProcess(['test/bench/oidc-provider-server.mjs'], { BENCH_CLIENT_SECRET: secret, NODE_ENV: 'production' }, port);
  const { call, close } = client(port);
  const form = formHeaders('bench', secret);
  const accessToken = JSON.parse((await call('POST', '/token', form, 'grant_type=client_credentials&scope=read')).body).access_token;
  const results = [
    await load('POST /token (client_credentials)', () => call('POST', '/token', form, 'grant_type=client_credentials&scope=read')),
    await load('POST /token/introspection', () => call('POST', '/token/introspection', form, `token=${accessToken}`)),
    await load('GET /.well-known/openid-configuration', () => call('GET', '/.well-known/openid-configuration', {})),
  ];
  close();
  return { server: 'node-oidc-provider (in-memory)', rss_mb: await stopProcess(child), results };
}

const runs = [await benchAuthGate()];
if (process.env.BENCH_SKIP_BASELINE !== 'true') runs.push(await benchOidcProvider());
for (const run of runs) {
  console.log(`\n${run.server} — concurrency ${CONCURRENCY}, ${DURATION_MS} ms per case, server RSS after the run ${run.rss_mb} MB`);
  console.table(run.results);
}
const outDir = join(process.cwd(), 'test/bench/results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `bench-${database}-${Date.now()}.json`), JSON.stringify({ date: new Date().toISOString(), concurrency: CONCURRENCY, duration_ms: DURATION_MS, runs }, null, 2));
