// AuthGate's configuration names, defaults and units; aliases that must agree; unimplemented variables
// that warn or refuse; DSNs, Redis, CORS, limits, sessions, jitter and TLS files. Every bad value is a
// ConfigError naming the variable.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIMPLEMENTED_NAMES, VARIABLES, configurationReference } from '../../src/config/authgate-compat.js';
import { loadConfig } from '../../src/config/env.js';
import { parseKeyValueDsn } from '../../src/config/dsn.js';
import { ConfigError } from '../../src/domain/errors.js';
import { accessLifetimeFor } from '../../src/services/tokens.js';
import { makeSelfSignedCertificate } from '../helpers/tls.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'authgate-config-'));
const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dataDir(), ...env });
const refused = (env: Record<string, string>, message: RegExp | string) => {
  expect(() => load(env)).toThrow(ConfigError);
  expect(() => load(env)).toThrow(message);
};

describe('aliases: this server’s older names agree with AuthGate’s or stop startup', () => {
  test('PORT=8080 with SERVER_ADDR=127.0.0.1:8080 agree; another port or host does not', () => {
    const config = load({ PORT: '8080', SERVER_ADDR: '127.0.0.1:8080' });
    expect([config.host, config.port]).toEqual(['127.0.0.1', 8080]);
    refused({ PORT: '9090', SERVER_ADDR: '127.0.0.1:8080' }, /SERVER_ADDR=127.0.0.1:8080 and PORT=9090 disagree/);
    refused({ HOST: '10.0.0.1', SERVER_ADDR: '127.0.0.1:8080' }, /SERVER_ADDR=127.0.0.1:8080 and HOST=10.0.0.1 disagree/);
    // ":8080" names no host: HOST supplies it.
    expect(load({ HOST: '127.0.0.1', SERVER_ADDR: ':8080' }).host).toBe('127.0.0.1');
  });

  test('SHUTDOWN_TIMEOUT and SERVER_SHUTDOWN_TIMEOUT: the same duration written differently agrees; 5s vs 9s does not', () => {
    expect(load({}).shutdownTimeoutMs).toBe(5000); // AuthGate's default
    expect(load({ SHUTDOWN_TIMEOUT: '7s' }).shutdownTimeoutMs).toBe(7000);
    expect(load({ SHUTDOWN_TIMEOUT: '5s', SERVER_SHUTDOWN_TIMEOUT: '5' }).shutdownTimeoutMs).toBe(5000);
    refused({ SHUTDOWN_TIMEOUT: '5s', SERVER_SHUTDOWN_TIMEOUT: '9s' }, /SERVER_SHUTDOWN_TIMEOUT=9s and SHUTDOWN_TIMEOUT=5s disagree/);
  });

  test('SERVER_KEEP_ALIVE_TIMEOUT: Node\'s 5 s by default, a duration from 1 s to 10 min, anything else stops startup', () => {
    expect(load({}).timeouts.keepAliveMs).toBe(5000);
    expect(load({ SERVER_KEEP_ALIVE_TIMEOUT: '65s' }).timeouts.keepAliveMs).toBe(65_000);
    expect(load({ SERVER_KEEP_ALIVE_TIMEOUT: '10m' }).timeouts.keepAliveMs).toBe(600_000);
    refused({ SERVER_KEEP_ALIVE_TIMEOUT: '0' }, /^SERVER_KEEP_ALIVE_TIMEOUT must be at least 1 seconds/);
    refused({ SERVER_KEEP_ALIVE_TIMEOUT: '11m' }, /^SERVER_KEEP_ALIVE_TIMEOUT must be at most 600 seconds/);
    refused({ SERVER_KEEP_ALIVE_TIMEOUT: 'forever' }, /^SERVER_KEEP_ALIVE_TIMEOUT must be a duration/);
  });

  test('token profiles: AuthGate’s *_TTL names, with the older *_EXPIRATION names as aliases', () => {
    const config = load({ TOKEN_PROFILE_SHORT_ACCESS_TTL: '5m', TOKEN_PROFILE_LONG_REFRESH_EXPIRATION: '1000h' });
    expect(config.tokenProfiles.short.access).toBe(300);
    expect(config.tokenProfiles.long.refresh).toBe(1000 * 3600);
    refused({ TOKEN_PROFILE_SHORT_ACCESS_TTL: '5m', TOKEN_PROFILE_SHORT_ACCESS_EXPIRATION: '6m' }, /TOKEN_PROFILE_SHORT_ACCESS_TTL=5m and TOKEN_PROFILE_SHORT_ACCESS_EXPIRATION=6m disagree/);
    // A bad value is reported under the name the operator used.
    refused({ TOKEN_PROFILE_LONG_ACCESS_EXPIRATION: 'soon' }, /^TOKEN_PROFILE_LONG_ACCESS_EXPIRATION must be a duration/);
  });

  test('device code limit: DEVICE_CODE_RATE_LIMIT (default 10/min) and RATE_LIMIT_DEVICE_CODE', () => {
    expect(load({}).rateLimits.deviceCodePerMinute).toBe(10);
    expect(load({ RATE_LIMIT_DEVICE_CODE: '30' }).rateLimits.deviceCodePerMinute).toBe(30);
    refused({ RATE_LIMIT_DEVICE_CODE: '30', DEVICE_CODE_RATE_LIMIT: '10' }, /DEVICE_CODE_RATE_LIMIT=10 and RATE_LIMIT_DEVICE_CODE=30 disagree/);
  });

  test('registration limit: AuthGate counts per minute (default 5), the older RATE_LIMIT_REGISTRATION per hour', () => {
    expect(load({}).rateLimits).toMatchObject({ registration: 5, registrationWindowSeconds: 60 });
    expect(load({ RATE_LIMIT_REGISTRATION: '20' }).rateLimits).toMatchObject({ registration: 20, registrationWindowSeconds: 3600 });
    expect(load({ RATE_LIMIT_REGISTRATION: '60', DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT: '1' }).rateLimits).toMatchObject({ registration: 1, registrationWindowSeconds: 60 });
    refused({ RATE_LIMIT_REGISTRATION: '20', DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT: '5' }, /DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT=5 \(per minute\) and RATE_LIMIT_REGISTRATION=20 \(per hour\) disagree/);
  });
});

describe('database: DATABASE_DRIVER + DATABASE_DSN, or DATABASE_URL', () => {
  test('sqlite with a file path (relative to the working directory), and DATABASE_PATH', () => {
    const dir = dataDir();
    expect(load({ DATABASE_DRIVER: 'sqlite', DATABASE_DSN: join(dir, 'oauth.db') }).database).toEqual({ dialect: 'sqlite', file: join(dir, 'oauth.db') });
    expect(load({ DATABASE_DSN: 'oauth.db' }).database).toEqual({ dialect: 'sqlite', file: join(process.cwd(), 'oauth.db') });
    expect(load({ DATABASE_PATH: join(dir, 'a.db') }).database).toEqual({ dialect: 'sqlite', file: join(dir, 'a.db') });
    refused({ DATABASE_PATH: '/a.db', DATABASE_DSN: '/b.db' }, /DATABASE_DSN=\/b.db and DATABASE_PATH=\/a.db disagree/);
    refused({ DATABASE_DSN: 'file:x.db?_busy_timeout=5000' }, /DATABASE_DSN: SQLite connection options/);
  });

  test('postgres with the guide’s key=value DSN, quoted values, a Unix socket, or a URL', () => {
    const config = load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=localhost user=authgate password=secret dbname=authgate port=5432 sslmode=disable' });
    expect(config.database).toEqual({ dialect: 'postgresql', url: 'postgresql://authgate:secret@localhost:5432/authgate?sslmode=disable' });
    const quoted = load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: "host=db.internal user='auth gate' password='it\\'s @/secret' dbname=ag" });
    const url = new URL((quoted.database as { url: string }).url);
    expect([url.hostname, decodeURIComponent(url.username), decodeURIComponent(url.password), url.pathname]).toEqual(['db.internal', 'auth gate', "it's @/secret", '/ag']);
    const socket = load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=/var/run/postgresql dbname=ag' });
    expect(new URL((socket.database as { url: string }).url).searchParams.get('host')).toBe('/var/run/postgresql');
    expect(load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'postgres://u:p@h:5433/d' }).database).toEqual({ dialect: 'postgresql', url: 'postgres://u:p@h:5433/d' });
    // GORM examples' TimeZone: accepted, with a warning, since it changes nothing here.
    expect(load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=h dbname=d TimeZone=UTC' }).warnings).toEqual([expect.stringMatching(/^DATABASE_DSN: TimeZone is accepted but has no effect/)]);
  });

  test('DATABASE_URL and DATABASE_DRIVER/DATABASE_DSN naming the same database agree; different ones stop startup', () => {
    const dsn = 'host=localhost user=authgate password=secret dbname=authgate port=5432 sslmode=disable';
    expect(load({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: dsn, DATABASE_URL: 'postgres://authgate:secret@localhost/authgate' }).database.dialect).toBe('postgresql');
    refused({ DATABASE_DRIVER: 'postgres', DATABASE_DSN: dsn, DATABASE_URL: 'postgres://authgate:secret@localhost/other' }, /DATABASE_URL and DATABASE_DRIVER\/DATABASE_DSN name different databases/);
    refused({ DATABASE_DRIVER: 'sqlite', DATABASE_URL: 'postgres://u@h/d' }, /DATABASE_DRIVER=sqlite and DATABASE_URL \(postgresql\) disagree/);
    expect(load({ DATABASE_DRIVER: 'postgres', DATABASE_URL: 'postgres://u@h/d' }).database).toEqual({ dialect: 'postgresql', url: 'postgres://u@h/d' });
  });

  test.each([
    [{ DATABASE_DRIVER: 'mysql' }, /DATABASE_DRIVER must be one of sqlite, postgres, postgresql, got "mysql"/],
    [{ DATABASE_DRIVER: 'postgres' }, /DATABASE_DRIVER=postgres needs DATABASE_DSN/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=localhost user' }, /DATABASE_DSN is not a valid PostgreSQL DSN: expected key=value/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: "host=localhost password='open" }, /DATABASE_DSN is not a valid PostgreSQL DSN: unterminated quote in the value of password/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=h port=fifty dbname=d' }, /DATABASE_DSN: port must be a number/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=h sslmode=sometimes' }, /DATABASE_DSN: sslmode must be one of/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=h pool_max_conns=4' }, /DATABASE_DSN: the DSN key "pool_max_conns" is not supported/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=h host=i' }, /DATABASE_DSN is not a valid PostgreSQL DSN: host is given twice/],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'postgres://[bad' }, /DATABASE_DSN is not a valid postgres:\/\/ URL/],
    [{ DATABASE_DSN: 'host=localhost dbname=authgate' }, /DATABASE_DSN is a PostgreSQL DSN but DATABASE_DRIVER is unset \(sqlite\)/],
  ])('malformed database settings are refused naming the variable (%j)', (env, message) => refused(env, message));

  test('the key=value parser follows libpq’s quoting', () => {
    expect([...parseKeyValueDsn('X', " a = 1  b='two words' c='\\\\' d=''")]).toEqual([
      ['a', '1'],
      ['b', 'two words'],
      ['c', '\\'],
      ['d', ''],
    ]);
  });
});

describe('Redis: REDIS_ADDR/REDIS_PASSWORD/REDIS_DB with RATE_LIMIT_STORE=redis, or REDIS_URL', () => {
  test('used only with RATE_LIMIT_STORE=redis, as in AuthGate', () => {
    expect(load({ REDIS_ADDR: 'cache:6379' }).redisUrl).toBeUndefined();
    expect(load({ RATE_LIMIT_STORE: 'redis' }).redisUrl).toBe('redis://localhost:6379/0');
    expect(load({ RATE_LIMIT_STORE: 'redis', REDIS_ADDR: 'cache:6380', REDIS_PASSWORD: 'p@ss/word', REDIS_DB: '3' }).redisUrl).toBe('redis://:p%40ss%2Fword@cache:6380/3');
    expect(load({ REDIS_URL: 'redis://cache:6379/0' }).redisUrl).toBe('redis://cache:6379/0');
  });

  test('REDIS_URL and REDIS_ADDR… agree or stop startup; REDIS_URL with RATE_LIMIT_STORE=memory does not agree', () => {
    expect(load({ REDIS_URL: 'redis://:pw@cache:6379/2', RATE_LIMIT_STORE: 'redis', REDIS_ADDR: 'cache:6379', REDIS_PASSWORD: 'pw', REDIS_DB: '2' }).redisUrl).toBe('redis://:pw@cache:6379/2');
    refused({ REDIS_URL: 'redis://cache:6379/0', REDIS_ADDR: 'other:6379' }, /REDIS_URL and REDIS_ADDR\/REDIS_PASSWORD\/REDIS_DB disagree/);
    refused({ REDIS_URL: 'redis://cache:6379/0', RATE_LIMIT_STORE: 'memory' }, /RATE_LIMIT_STORE=memory and REDIS_URL disagree/);
  });

  test.each([
    [{ REDIS_DB: 'one' }, /REDIS_DB must be an integer/],
    [{ REDIS_ADDR: 'cache' }, /REDIS_ADDR must look like "localhost:6379"/],
    [{ RATE_LIMIT_STORE: 'memcached' }, /RATE_LIMIT_STORE must be one of memory, redis/],
  ])('bad Redis settings are refused naming the variable (%j)', (env, message) => refused(env, message));
});

describe('limits, CORS, sessions, timeouts, audit', () => {
  test('per-endpoint limits per minute; non-numeric values are refused; ENABLE_RATE_LIMIT=false switches them off', () => {
    const limits = load({ LOGIN_RATE_LIMIT: '5', TOKEN_RATE_LIMIT: '20', DEVICE_VERIFY_RATE_LIMIT: '10', INTROSPECT_RATE_LIMIT: '20' }).rateLimits;
    expect(limits).toMatchObject({ loginPerMinute: 5, tokenPerMinute: 20, deviceVerifyPerMinute: 10, introspectPerMinute: 20 });
    refused({ LOGIN_RATE_LIMIT: 'five' }, /LOGIN_RATE_LIMIT must be an integer/);
    refused({ DEVICE_CODE_RATE_LIMIT: '10/min' }, /DEVICE_CODE_RATE_LIMIT must be an integer/);
    refused({ DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT: '-1' }, /DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT must be an integer/);
    refused({ ENABLE_RATE_LIMIT: 'false', TOKEN_RATE_LIMIT: 'x' }, /TOKEN_RATE_LIMIT must be an integer/);
    const off = load({ ENABLE_RATE_LIMIT: 'false', LOGIN_RATE_LIMIT: '5' }).rateLimits;
    expect(off).toMatchObject({ deviceCodePerMinute: 0, registration: 0, loginPerMinute: 0, tokenPerMinute: 0, deviceVerifyPerMinute: 0, introspectPerMinute: 0 });
  });

  test('CORS: origins switch it on; CORS_ENABLED=false off; AuthGate’s methods, headers and max age', () => {
    const on = load({ CORS_ALLOWED_ORIGINS: 'https://app.example.com' });
    expect(on.corsAllowedOrigins).toEqual(['https://app.example.com']);
    expect(on.cors).toEqual({ methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'], headers: ['Origin', 'Content-Type', 'Authorization'], maxAge: 12 * 3600 });
    expect(load({ CORS_ENABLED: 'false', CORS_ALLOWED_ORIGINS: 'https://app.example.com' }).corsAllowedOrigins).toEqual([]);
    expect(load({ CORS_ALLOWED_ORIGINS: 'https://a.example', CORS_ALLOWED_METHODS: 'GET,POST', CORS_MAX_AGE: '10m' }).cors).toMatchObject({ methods: ['GET', 'POST'], maxAge: 600 });
    refused({ CORS_ENABLED: 'true' }, /CORS_ENABLED=true needs CORS_ALLOWED_ORIGINS/);
    refused({ CORS_ALLOWED_ORIGINS: 'https://a.example', CORS_MAX_AGE: 'long' }, /CORS_MAX_AGE must be a duration/);
    refused({ CORS_ALLOWED_ORIGINS: 'https://a.example', CORS_ALLOWED_HEADERS: 'X Bad' }, /CORS_ALLOWED_HEADERS contains an invalid entry/);
  });

  test('sessions: AuthGate’s seconds and defaults (1 h, idle 30 min); idle 0 = only the absolute age', () => {
    expect(load({}).session).toMatchObject({ maxAge: 3600, idleTimeout: 1800 });
    expect(load({ SESSION_MAX_AGE: '7200', SESSION_IDLE_TIMEOUT: '0' }).session).toMatchObject({ maxAge: 7200, idleTimeout: 7200 });
    expect(load({ SESSION_MAX_AGE: '24h', SESSION_IDLE_TIMEOUT: '2h' }).session).toMatchObject({ maxAge: 86400, idleTimeout: 7200 });
    refused({ SESSION_IDLE_TIMEOUT: 'half an hour' }, /SESSION_IDLE_TIMEOUT must be a duration/);
  });

  test('bootstrap and shutdown timeouts, audit buffer size, ENVIRONMENT=production', () => {
    const config = load({ DB_INIT_TIMEOUT: '60s', REDIS_CONN_TIMEOUT: '15s', AUDIT_SHUTDOWN_TIMEOUT: '30s', DB_CLOSE_TIMEOUT: '2s', AUDIT_LOG_BUFFER_SIZE: '1000' });
    expect(config.timeouts).toEqual({ dbInitMs: 60_000, dbCloseMs: 2000, redisConnMs: 15_000, redisCloseMs: 5000, auditShutdownMs: 30_000, keepAliveMs: 5000 });
    expect(config.audit.bufferSize).toBe(1000);
    refused({ DB_INIT_TIMEOUT: 'forever' }, /DB_INIT_TIMEOUT must be a duration/);
    refused({ AUDIT_LOG_BUFFER_SIZE: 'big' }, /AUDIT_LOG_BUFFER_SIZE must be an integer/);
    refused({ ENVIRONMENT: 'production' }, /JWT_SECRET must be set when NODE_ENV=production/);
  });
});

describe('JWT_EXPIRATION_JITTER', () => {
  test('AuthGate’s default (30m) and rule: less than JWT_EXPIRATION', () => {
    expect(load({}).jwt.expirationJitter).toBe(1800);
    refused({ JWT_EXPIRATION: '20m' }, 'JWT_EXPIRATION_JITTER (1800s) must be less than JWT_EXPIRATION (1200s)');
    refused({ JWT_EXPIRATION: '1h', JWT_EXPIRATION_JITTER: '1h' }, /must be less than JWT_EXPIRATION/);
    expect(load({ JWT_EXPIRATION: '20m', JWT_EXPIRATION_JITTER: '0' }).jwt.expirationJitter).toBe(0);
  });

  test('applied in [0, jitter) only where the lifetime is JWT_EXPIRATION', () => {
    const config = load({ JWT_EXPIRATION: '8h', JWT_EXPIRATION_JITTER: '30m' });
    expect(accessLifetimeFor(config, 'standard', () => 0)).toBe(8 * 3600);
    expect(accessLifetimeFor(config, 'standard', () => 0.999999)).toBe(8 * 3600 + 1799);
    expect(accessLifetimeFor(config, 'short', () => 0.5)).toBe(900);
    expect(accessLifetimeFor(config, 'long', () => 0.5)).toBe(86400);
    const diverged = load({ JWT_EXPIRATION: '8h', TOKEN_PROFILE_STANDARD_ACCESS_TTL: '4h' });
    expect(accessLifetimeFor(diverged, 'standard', () => 0.5)).toBe(4 * 3600);
  });
});

describe('AuthGate variables this server does not implement', () => {
  test('one warning per set variable, naming it; values that ask for what this server does anyway pass silently', () => {
    const config = load({ TOKEN_API_URL: 'https://tokens.example.com/api', USER_CACHE_TYPE: 'memory', GITHUB_OAUTH_ENABLED: 'false', TOKEN_CACHE_ENABLED: 'false', AUTH_MODE: 'local', METRICS_CACHE_TYPE: 'redis', METRICS_ENABLED: 'false' });
    expect(config.warnings).toEqual([
      expect.stringMatching(/^TOKEN_API_URL is set but not implemented by this server and has no effect: /),
      expect.stringMatching(/^METRICS_CACHE_TYPE is set but not implemented .*METRICS_GAUGE_UPDATE_ENABLED/),
    ]);
    // Implemented now (issue 11): no warning.
    expect(load({ ENABLE_AUDIT_LOGGING: 'false', AUDIT_LOG_RETENTION: '720h', LOGIN_RATE_LIMIT: '5' }).warnings).toEqual([]);
    expect(load({}).warnings).toEqual([]);
  });

  test.each([
    [{ AUTH_MODE: 'ldap' }, /^AUTH_MODE must be one of local, http_api, got "ldap"/],
    [{ TOKEN_PROVIDER_MODE: 'http_api' }, /^TOKEN_PROVIDER_MODE=http_api: issuing tokens through an external HTTP API is not implemented/],
    [{ SESSION_FINGERPRINT: 'true' }, /^SESSION_FINGERPRINT=true: session fingerprinting is not implemented/],
    [{ JWT_PRIVATE_KEY_PEM: '-----BEGIN PRIVATE KEY-----' }, /^JWT_PRIVATE_KEY_PEM=.*set JWT_PRIVATE_KEY_PATH/],
    [{ JWT_AUDIENCE: 'api' }, /^JWT_AUDIENCE=api: /],
  ])('a security-changing value that cannot be honoured stops startup naming it (%j)', (env, message) => refused(env, message));

  test('every unimplemented name, set, either warns naming it or stops startup naming it', () => {
    for (const name of UNIMPLEMENTED_NAMES) {
      let warnings: string[] = [];
      try {
        warnings = load({ [name]: 'some-value' }).warnings;
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as Error).message.startsWith(`${name}=`)).toBe(true);
        continue;
      }
      expect(warnings).toEqual([expect.stringMatching(new RegExp(`^${name} is set but not implemented`))]);
    }
  });

  test('no name is both read and listed as unimplemented; the reference lists every variable', () => {
    const read = new Set(VARIABLES.flatMap((variable) => [variable.name, ...(variable.aliases ?? [])]));
    expect(UNIMPLEMENTED_NAMES.filter((name) => read.has(name))).toEqual([]);
    const reference = configurationReference();
    for (const name of [...read, ...UNIMPLEMENTED_NAMES]) expect(reference).toContain(name);
  });
});

describe('TLS_CERT_FILE and TLS_KEY_FILE', () => {
  const cert = makeSelfSignedCertificate();

  test('both set and valid: HTTPS, and the default BASE_URL is https', () => {
    const config = load({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile, PORT: '8443' });
    expect(config.tls?.certFile).toBe(cert.certFile);
    expect(config.tls?.cert.toString()).toBe(cert.cert);
    expect(config.baseUrl).toBe('https://localhost:8443');
    expect(config.secureCookies).toBe(true);
  });

  test('only one set, unreadable, not PEM, or a key that does not match: refused naming the variable', () => {
    const other = makeSelfSignedCertificate('other');
    const garbage = join(cert.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    refused({ TLS_CERT_FILE: cert.certFile }, 'TLS_CERT_FILE is set but TLS_KEY_FILE is not');
    refused({ TLS_KEY_FILE: cert.keyFile }, 'TLS_KEY_FILE is set but TLS_CERT_FILE is not');
    refused({ TLS_CERT_FILE: join(cert.dir, 'missing.pem'), TLS_KEY_FILE: cert.keyFile }, /^TLS_CERT_FILE: cannot read ".*missing.pem"/);
    refused({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: join(cert.dir, 'missing.pem') }, /^TLS_KEY_FILE: cannot read/);
    refused({ TLS_CERT_FILE: garbage, TLS_KEY_FILE: cert.keyFile }, /^TLS_CERT_FILE: ".*garbage.pem" is not a PEM certificate/);
    refused({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: garbage }, /^TLS_KEY_FILE: ".*garbage.pem" is not a PEM private key/);
    refused({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: other.keyFile }, /^TLS_KEY_FILE: .* does not match the certificate in TLS_CERT_FILE/);
  });
});
