// Starts a real AuthGate over HTTP on a free loopback port with a fresh database: a new SQLite file,
// or a new PostgreSQL database when TEST_POSTGRES_URL is set.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/env.js';
import { createLogger, type Logger } from '../../src/ops/logger.js';
import { createTestDatabase } from './postgres.js';

export const ADMIN_PASSWORD = 'admin-password-for-tests';

export interface TestServer {
  url: string;
  config: Config;
  authgate: AuthGate;
  cliClientId: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The per-endpoint request limits, under AuthGate's names and this server's older ones. */
const REQUEST_LIMITS = [
  'LOGIN_RATE_LIMIT',
  'DEVICE_CODE_RATE_LIMIT',
  'RATE_LIMIT_DEVICE_CODE',
  'TOKEN_RATE_LIMIT',
  'DEVICE_VERIFY_RATE_LIMIT',
  'INTROSPECT_RATE_LIMIT',
  'DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT',
  'RATE_LIMIT_REGISTRATION',
];

export const usingPostgres = Boolean(process.env.TEST_POSTGRES_URL);

/** `opts.logger` replaces the default (LOG_LEVEL) logger, e.g. to read the server's log lines. */
export async function startTestServer(env: Record<string, string> = {}, opts: { logger?: Logger } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'authgate-test-'));
  const pg = usingPostgres ? await createTestDatabase() : null;
  const port = await freePort();
  // Deterministic lifetimes unless a test sets them. The per-endpoint request limits are on by
  // default (LOGIN_RATE_LIMIT 5/min, ...), and tests sign in and call endpoints many times from one
  // address: they are off in a test server unless the test asks for them, by setting
  // ENABLE_RATE_LIMIT or a limit to a non-zero value (then the others keep their defaults).
  const given = (...names: string[]) => names.some((name) => name in env);
  const asksForLimits = Object.entries(env).some(([name, value]) => name === 'ENABLE_RATE_LIMIT' || (REQUEST_LIMITS.includes(name) && value.trim() !== '0'));
  const config = loadConfig({
    ...(given('JWT_EXPIRATION_JITTER') ? {} : { JWT_EXPIRATION_JITTER: '0' }),
    ...(asksForLimits ? {} : { ENABLE_RATE_LIMIT: 'false' }),
    DATA_DIR: dataDir,
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DEFAULT_ADMIN_PASSWORD: ADMIN_PASSWORD,
    DEVICE_CODE_POLLING_INTERVAL: '1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    AUDIT_FLUSH_INTERVAL: '1',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    // Each test server gets its own key namespace, so no test sees another's counters.
    ...(process.env.TEST_REDIS_URL ? { REDIS_URL: process.env.TEST_REDIS_URL, REDIS_KEY_PREFIX: `authgate-test:${randomUUID()}:` } : {}),
    ...env,
  });
  const authgate = await createAuthGate(config, opts.logger ?? createLogger(config.logLevel));
  await authgate.listen(port, '127.0.0.1');
  const cli = await authgate.db.oAuthClient.findFirstOrThrow({ where: { name: 'AuthGate CLI' } });
  return {
    url: config.baseUrl,
    config,
    authgate,
    cliClientId: cli.clientId,
    dataDir,
    async close() {
      await authgate.close();
      await pg?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The session stores session tests run against: the database always, Redis too when TEST_REDIS_URL is set. */
export const SESSION_STORES: ('database' | 'redis')[] = ['database', ...(process.env.TEST_REDIS_URL ? (['redis'] as const) : [])];
