// AuthGate's example .env (test/fixtures/authgate.env, assembled from its configuration guide) starts this
// server. Only what must differ on a test machine is replaced: the listen address, the database (a file in
// a temp dir, or in the PostgreSQL run a fresh database reached through the guide's key=value DSN form),
// the TLS files (a self-signed certificate made here), and, in the Redis run, REDIS_ADDR.
// Its TLS_* serve HTTPS that Node's fetch accepts with the test's CA; each set-but-unimplemented
// variable is logged once at warn level, naming it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseEnv } from 'node:util';
import pg from 'pg';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/env.js';
import { captureLog, type CapturedLog } from '../helpers/log-capture.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { freePort, usingPostgres } from '../helpers/server.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../helpers/tls.js';

const run = promisify(execFile);
const FIXTURE = join(process.cwd(), 'test/fixtures/authgate.env');
const fixture = () => parseEnv(readFileSync(FIXTURE, 'utf8')) as Record<string, string>;

/** The guide's DSN shape, pointing at the test database. */
function keyValueDsn(url: string): string {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  return [
    `host=${u.hostname}`,
    `user=${decodeURIComponent(u.username)}`,
    ...(password ? [`password=${password}`] : []),
    `dbname=${decodeURIComponent(u.pathname.slice(1))}`,
    `port=${u.port || '5432'}`,
    'sslmode=disable',
  ].join(' ');
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe("AuthGate's example .env", () => {
  let dir: string;
  let cert: TestCertificate;
  let db: TestDatabase | undefined;
  let port: number;
  let env: Record<string, string>;
  let config: Config;
  let log: CapturedLog;
  let authgate: AuthGate;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authgate-env-'));
    cert = makeSelfSignedCertificate();
    db = usingPostgres ? await createTestDatabase() : undefined;
    port = await freePort();
    env = {
      ...fixture(),
      SERVER_ADDR: `127.0.0.1:${port}`,
      BASE_URL: `https://localhost:${port}`,
      TLS_CERT_FILE: cert.certFile,
      TLS_KEY_FILE: cert.keyFile,
      DATA_DIR: dir,
      ...(db ? { DATABASE_DRIVER: 'postgres', DATABASE_DSN: keyValueDsn(db.url) } : { DATABASE_DSN: join(dir, 'oauth.db') }),
      ...(process.env.TEST_REDIS_URL
        ? (() => {
            const redis = new URL(process.env.TEST_REDIS_URL);
            return { RATE_LIMIT_STORE: 'redis', REDIS_ADDR: `${redis.hostname}:${redis.port || '6379'}`, REDIS_DB: redis.pathname.slice(1) || '0', REDIS_KEY_PREFIX: `authgate-env-test:${port}:` };
          })()
        : {}),
    };
    config = loadConfig(env);
    log = captureLog('warn');
    authgate = await createAuthGate(config, log.logger);
    await authgate.listen();
  });

  afterAll(async () => {
    await authgate?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(cert.dir, { recursive: true, force: true });
  });

  test('its values are read under their AuthGate names', () => {
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(port);
    expect(config.database.dialect).toBe(usingPostgres ? 'postgresql' : 'sqlite');
    expect(config.jwt).toMatchObject({ alg: 'HS256', expiration: 10 * 3600, expirationJitter: 1800 });
    expect(config.tokenProfiles).toEqual({ short: { access: 900, refresh: 86400 }, standard: { access: 36000, refresh: 720 * 3600 }, long: { access: 86400, refresh: 2160 * 3600 } });
    expect(config.rateLimits).toMatchObject({ deviceCodePerMinute: 10, registration: 5, registrationWindowSeconds: 60, loginPerMinute: 5, tokenPerMinute: 20, deviceVerifyPerMinute: 10, introspectPerMinute: 20 });
    expect(config.corsAllowedOrigins).toEqual(['http://localhost:3000', 'https://app.example.com']);
    expect(config.cors.maxAge).toBe(12 * 3600);
    expect(config.shutdownTimeoutMs).toBe(5000);
    expect(config.timeouts).toEqual({ dbInitMs: 30_000, dbCloseMs: 5000, redisConnMs: 5000, redisCloseMs: 5000, auditShutdownMs: 10_000, keepAliveMs: 5000 });
    expect(config.audit.bufferSize).toBe(1000);
    expect(config.redisUrl === undefined).toBe(!process.env.TEST_REDIS_URL);
  });

  test('serves HTTPS on SERVER_ADDR with its TLS_* files: /health is 200 to a client trusting the test CA', async () => {
    const res = await httpsGet(`https://localhost:${port}/health`, cert.cert);
    expect(res.status).toBe(200);
  });

  test("Node's fetch accepts it with the test's CA, and refuses it without", async () => {
    const script = `fetch(process.argv[1]).then(async (r) => console.log(r.status), (e) => { console.log('refused', e.cause?.code ?? e.message); })`;
    const withCa = await run(process.execPath, ['-e', script, `https://localhost:${port}/health`], { env: { ...process.env, NODE_EXTRA_CA_CERTS: cert.certFile } });
    expect(withCa.stdout.trim()).toBe('200');
    const withoutCa = await run(process.execPath, ['-e', script, `https://localhost:${port}/health`], { env: { ...process.env, NODE_EXTRA_CA_CERTS: '' } });
    expect(withoutCa.stdout.trim()).toMatch(/^refused (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
  });

  test('the PostgreSQL DSN in key=value form reaches the PostgreSQL database (PostgreSQL run)', async () => {
    if (!db) return; // SQLite run: the DSN is the file in the temp dir
    expect(env.DATABASE_DSN).toMatch(/^host=\S+ user=\S+ .*dbname=authgate_test_[0-9a-f]+ port=\d+ sslmode=disable$/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM users WHERE username = 'admin'`);
      expect(rows[0].n).toBe(1);
    } finally {
      await client.end();
    }
  });

  test("the guide's own PostgreSQL example DSN converts to the URL node-postgres reads", () => {
    const text = readFileSync(FIXTURE, 'utf8');
    const example = /^# DATABASE_DSN=(".*")$/m.exec(text)![1]!;
    const config = loadConfig({ DATA_DIR: dir, DATABASE_DRIVER: 'postgres', DATABASE_DSN: JSON.parse(example) as string, JWT_SECRET: env.JWT_SECRET!, SESSION_SECRET: env.SESSION_SECRET! });
    expect(config.database).toEqual({ dialect: 'postgresql', url: 'postgresql://authgate:secret@localhost:5432/authgate?sslmode=disable' });
  });

  test('each set AuthGate variable this server does not implement is logged once at warn level, naming it', () => {
    const warnings = log.lines().filter((line) => line.level === 'warn');
    const named = (name: string) => warnings.filter((line) => String(line.msg).startsWith(`${name} is set but not implemented`));
    for (const name of ['CACHE_INIT_TIMEOUT', 'DB_LOG_LEVEL']) {
      expect(named(name)).toHaveLength(1);
    }
    // Set to what this server does anyway (external sign-in off, local sign-in): no warning.
    // Implemented (audit retention, the request limits, the caches, sign-in with providers and the HTTP API): no warning either.
    for (const name of ['GITHUB_OAUTH_ENABLED', 'TOKEN_CACHE_ENABLED', 'AUTH_MODE', 'MICROSOFT_CLIENT_ID', 'AUDIT_LOG_RETENTION', 'AUDIT_LOG_CLEANUP_INTERVAL', 'ENABLE_AUDIT_LOGGING', 'LOGIN_RATE_LIMIT', 'USER_CACHE_TTL', 'CLIENT_CACHE_TYPE', 'TOKEN_CACHE_TYPE', 'GITHUB_CLIENT_ID', 'GITEA_URL', 'OAUTH_TIMEOUT', 'HTTP_API_URL', 'HTTP_API_AUTH_SECRET']) {
      expect(warnings.filter((line) => String(line.msg).startsWith(name))).toEqual([]);
    }
    expect(warnings).toHaveLength(config.warnings.length);
  });
});

describe("AuthGate's example .env without TLS", () => {
  test('serves plain HTTP and answers /health with 200', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authgate-env-'));
    const db = usingPostgres ? await createTestDatabase() : undefined;
    const port = await freePort();
    const { TLS_CERT_FILE: _cert, TLS_KEY_FILE: _key, ...plain } = fixture();
    const config = loadConfig({
      ...plain,
      SERVER_ADDR: `127.0.0.1:${port}`,
      BASE_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dir,
      ...(db ? { DATABASE_DRIVER: 'postgres', DATABASE_DSN: keyValueDsn(db.url) } : { DATABASE_DSN: join(dir, 'oauth.db') }),
    });
    const authgate = await createAuthGate(config, captureLog('error').logger);
    try {
      await authgate.listen();
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      expect(res.status).toBe(200);
    } finally {
      await authgate.close();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DB_INIT_TIMEOUT', () => {
  test('a database that accepts the connection but never answers stops startup after DB_INIT_TIMEOUT, naming it', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'authgate-env-'));
    try {
      const config = loadConfig({ DATA_DIR: dir, DATABASE_DRIVER: 'postgres', DATABASE_DSN: `host=127.0.0.1 port=${port} user=u dbname=d sslmode=disable`, DB_INIT_TIMEOUT: '1s' });
      const started = Date.now();
      await expect(createAuthGate(config, captureLog('error').logger)).rejects.toThrow('the database did not answer within DB_INIT_TIMEOUT (1s)');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
