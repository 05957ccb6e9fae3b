// The processes under test: this server (built, `node dist/main.js`) and the peer
// (oidc-provider-server.mjs), each in its own child process so the load generator never shares their
// event loop. Also the fresh PostgreSQL databases a run uses, and reading a process's resident memory.
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS of a live process, in MB (what the spec's memory target is about, not the V8 heap). */
export function rssMb(pid) {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return Math.round(kb / 102.4) / 10;
}

// Every child still running when the bench ends (normally or not) is stopped, by its pid.
const live = new Set();
export function killAll() {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Spawns `node args`, keeps its output (the last lines are shown if it dies), waits until it answers. */
async function spawnAndWait(args, env, port, label) {
  // `undefined` removes a variable the caller's environment may have set (e.g. DATABASE_URL).
  const fullEnv = { ...process.env, ...env, PORT: String(port) };
  for (const [name, value] of Object.entries(fullEnv)) if (value === undefined) delete fullEnv[name];
  const child = spawn(process.execPath, [...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: fullEnv });
  live.add(child);
  const output = { tail: [], errorLines: [] };
  const onLine = (line) => {
    output.tail.push(line);
    if (output.tail.length > 30) output.tail.shift();
    // The server logs JSON lines (pino) with the level's name; the bench runs it at LOG_LEVEL=error, so
    // every line it prints is something that went wrong. They are counted and shown in the report.
    if (/"level":"(error|fatal)"/.test(line)) output.errorLines.push(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      lines.forEach(onLine);
    });
  }
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => { exited = true; live.delete(child); resolve({ code, signal }); }));
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`${label} exited during startup:\n${output.tail.join('\n')}`);
    const up = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 600) throw new Error(`${label} did not answer within 60 s:\n${output.tail.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output,
    exited: () => exited,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * This server on a fresh database: SQLite in its own temporary DATA_DIR, or the PostgreSQL database
 * `databaseUrl` (DATA_DIR still holds its generated secrets and first-run credentials). ES256 keys,
 * audit logging on, the per-endpoint request limits off (one address sending thousands of requests
 * would measure the limiter), dynamic registration with a token so the bench can register its client.
 * `stop()` keeps the data for a later `start()` (scenario 6 seeds between the two); `remove()` deletes it.
 */
export function authGate({ label, databaseUrl }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'authgate-bench-'));
  const keyPath = join(dataDir, 'es256.pem');
  writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  const registrationToken = randomBytes(32).toString('base64url');
  let proc = null;
  let port = 0;
  const errorLines = [];
  const self = {
    label,
    dataDir,
    dialect: databaseUrl ? 'postgresql' : 'sqlite',
    sqliteFile: join(dataDir, 'authgate.db'),
    databaseUrl,
    registrationToken,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get pid() {
      return proc.child.pid;
    },
    async start() {
      port = await freePort();
      proc = await spawnAndWait(
        ['dist/main.js'],
        {
          DATA_DIR: dataDir,
          HOST: '127.0.0.1',
          BASE_URL: `http://127.0.0.1:${port}`,
          LOG_LEVEL: 'error',
          JWT_SIGNING_ALGORITHM: 'ES256',
          JWT_PRIVATE_KEY_PATH: keyPath,
          ENABLE_AUDIT_LOGGING: 'true',
          ENABLE_RATE_LIMIT: 'false',
          ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
          DYNAMIC_CLIENT_REGISTRATION_TOKEN: registrationToken,
          DATABASE_URL: databaseUrl,
          DATABASE_DRIVER: undefined,
          DATABASE_DSN: undefined,
          REDIS_URL: undefined,
        },
        port,
        label,
      );
      // Written on the first run: the admin's username and password and the seeded CLI client's id.
      const text = readFileSync(join(dataDir, 'authgate-credentials.txt'), 'utf8');
      const field = (name) => new RegExp(`^${name}: (.*)$`, 'm').exec(text)?.[1]?.trim();
      self.admin = { username: field('admin_username'), password: field('admin_password') };
      self.cliClientId = field('client_id');
      if (!self.admin.username || !self.admin.password || !self.cliClientId) throw new Error(`${label}: unexpected credentials file:\n${text}`);
      return self;
    },
    rssMb: () => rssMb(proc.child.pid),
    /** Error lines the server logged, over all its starts. */
    errorLines: () => [...errorLines, ...(proc?.output.errorLines ?? [])],
    /** Non-zero when the process died under load: an error for every scenario after it. */
    died: () => proc?.exited() === true && !proc.stopping,
    async stop() {
      if (!proc) return;
      proc.stopping = true;
      await proc.stop();
      errorLines.push(...proc.output.errorLines);
      proc = null;
    },
    async remove() {
      await self.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** node-oidc-provider with one confidential client, ES256 JWT access tokens for `resource`. */
export async function startPeer() {
  const port = await freePort();
  const clientSecret = randomBytes(32).toString('base64url');
  const resource = 'https://api.bench.example';
  const proc = await spawnAndWait(['test/bench/oidc-provider-server.mjs'], { BENCH_CLIENT_SECRET: clientSecret, BENCH_RESOURCE: resource, NODE_ENV: 'production' }, port, 'node-oidc-provider');
  return {
    label: 'node-oidc-provider',
    url: `http://127.0.0.1:${port}`,
    pid: proc.child.pid,
    clientId: 'bench',
    clientSecret,
    resource,
    rssMb: () => rssMb(proc.child.pid),
    died: () => proc.exited(),
    stop: () => proc.stop(),
  };
}

/**
 * A new, empty database `bench_<random>` on the server BENCH_DATABASE_URL points at. Only CREATE and
 * DROP DATABASE go through the given URL's database (the CI passes its `test` database): nothing is
 * ever written into it.
 */
export async function createPgDatabase(baseUrl, suffix) {
  const name = `bench_${randomBytes(5).toString('hex')}_${suffix}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        // FORCE: a server killed mid-run may leave connections behind (PostgreSQL ≥ 13).
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
