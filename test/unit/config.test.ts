import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { parseDurationSeconds } from '../../src/config/duration.js';
import { ConfigError } from '../../src/domain/errors.js';

const dataDir = () => mkdtempSync(join(tmpdir(), 'authgate-config-'));
const strong = 'x'.repeat(40);

describe('configuration', () => {
  test('defaults: SQLite under DATA_DIR, HS256, AuthGate lifetimes', () => {
    const dir = dataDir();
    const config = loadConfig({ DATA_DIR: dir });
    expect(config.database).toEqual({ dialect: 'sqlite', file: join(dir, 'authgate.db') });
    expect(config.port).toBe(8080);
    expect(config.baseUrl).toBe('http://localhost:8080');
    expect(config.jwt.alg).toBe('HS256');
    expect(config.jwt.expiration).toBe(10 * 3600);
    expect(config.refreshTokens).toEqual({ enabled: true, rotation: false, expiration: 720 * 3600, rotationGrace: 5 });
    expect(config.deviceCode).toEqual({ expiration: 1800, interval: 5 });
  });

  test('development secrets are generated once, persisted with mode 0600, and reused', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir });
    const second = loadConfig({ DATA_DIR: dir });
    expect(first.jwt.secret.length).toBeGreaterThanOrEqual(32);
    expect(second.jwt.secret).toBe(first.jwt.secret);
    expect(second.session.secret).toBe(first.session.secret);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'secrets.json'), 'utf8')).toContain(first.jwt.secret);
  });

  test.each([
    [{}, /JWT_SECRET must be set/],
    [{ JWT_SECRET: strong }, /SESSION_SECRET must be set/],
    [{ JWT_SECRET: 'short', SESSION_SECRET: strong }, /JWT_SECRET must be at least 32/],
    [{ JWT_SECRET: 'your-256-bit-secret-change-in-production', SESSION_SECRET: strong }, /JWT_SECRET is a well-known default/],
  ])('production refuses weak or missing secrets (%j)', (env, message) => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), BASE_URL: 'https://auth.example.com', ...env })).toThrow(message);
  });

  test('production starts with strong secrets', () => {
    const config = loadConfig({ NODE_ENV: 'production', DATA_DIR: dataDir(), BASE_URL: 'https://auth.example.com', JWT_SECRET: strong, SESSION_SECRET: 'y'.repeat(40) });
    expect(config.secureCookies).toBe(true);
  });

  test.each([
    [{ JWT_EXPIRATION: 'ten hours' }, /JWT_EXPIRATION must be a duration/],
    [{ ENABLE_TOKEN_ROTATION: 'maybe' }, /ENABLE_TOKEN_ROTATION must be true or false/],
    [{ JWT_SIGNING_ALGORITHM: 'none' }, /JWT_SIGNING_ALGORITHM must be one of HS256, RS256, ES256/],
    [{ JWT_SIGNING_ALGORITHM: 'RS256' }, /JWT_PRIVATE_KEY_PATH is required/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with/],
    [{ SERVER_ADDR: 'nonsense' }, /SERVER_ADDR must look like/],
    [{ BASE_URL: 'ftp://x' }, /BASE_URL must be an http/],
    [{ PORT: '99999' }, /PORT must be an integer/],
    [{ DEFAULT_ADMIN_PASSWORD: 'short' }, /DEFAULT_ADMIN_PASSWORD must be at least 8/],
  ])('bad values are refused with a message naming the variable (%j)', (env, message) => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ DATA_DIR: dataDir(), ...env })).toThrow(message);
  });

  test('AuthGate-style addresses, durations and PostgreSQL URLs', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), SERVER_ADDR: ':9000', DATABASE_URL: 'postgres://u@h/db', JWT_EXPIRATION: '1h30m' });
    expect(config.port).toBe(9000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database).toEqual({ dialect: 'postgresql', url: 'postgres://u@h/db' });
    expect(config.jwt.expiration).toBe(5400);
    expect(parseDurationSeconds('720h')).toBe(2_592_000);
    expect(parseDurationSeconds('90')).toBe(90);
    expect(parseDurationSeconds('1d')).toBeNull();
  });

  test('REFRESH_TOKEN_ROTATION_GRACE: a duration, 0 = strict, at most 5 minutes', () => {
    const grace = (value: string) => loadConfig({ DATA_DIR: dataDir(), REFRESH_TOKEN_ROTATION_GRACE: value }).refreshTokens.rotationGrace;
    expect(grace('0')).toBe(0);
    expect(grace('1s')).toBe(1);
    expect(grace('2m')).toBe(120);
    expect(() => grace('10m')).toThrow('REFRESH_TOKEN_ROTATION_GRACE must be at most 300 seconds');
    expect(() => grace('soon')).toThrow(ConfigError);
  });

  test('WEB_CONCURRENCY: 1 by default; more server processes only with what several instances need (PostgreSQL and Redis)', () => {
    const pgUrl = 'postgresql://u@h/db';
    const workers = (env: Record<string, string>) => loadConfig({ DATA_DIR: dataDir(), ...env }).webConcurrency;
    expect(workers({})).toBe(1);
    expect(workers({ WEB_CONCURRENCY: '1' })).toBe(1);
    expect(workers({ WEB_CONCURRENCY: '4', DATABASE_URL: pgUrl, REDIS_URL: 'redis://127.0.0.1:6379' })).toBe(4);
    expect(() => workers({ WEB_CONCURRENCY: '2' })).toThrow(
      'WEB_CONCURRENCY=2 runs 2 server processes, which share state as several instances do: it needs PostgreSQL (DATABASE_URL=postgresql://…) and Redis (REDIS_URL); or set WEB_CONCURRENCY=1',
    );
    expect(() => workers({ WEB_CONCURRENCY: '2', DATABASE_URL: pgUrl })).toThrow(/it needs Redis \(REDIS_URL\); or set/);
    expect(() => workers({ WEB_CONCURRENCY: '2', REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/it needs PostgreSQL \(DATABASE_URL=postgresql:\/\/…\); or set/);
    for (const bad of ['0', 'two', '1.5', '65']) expect(() => workers({ WEB_CONCURRENCY: bad })).toThrow('WEB_CONCURRENCY must be an integer between 1 and 64');
  });
});

describe('token profiles', () => {
  test('defaults: short 15m/24h, standard from JWT_EXPIRATION/REFRESH_TOKEN_EXPIRATION, long 24h/90d', () => {
    const config = loadConfig({ DATA_DIR: dataDir(), JWT_EXPIRATION: '2h' });
    expect(config.tokenProfiles).toEqual({
      short: { access: 900, refresh: 86400 },
      standard: { access: 7200, refresh: 720 * 3600 },
      long: { access: 86400, refresh: 90 * 86400 },
    });
  });

  test('a profile above its cap stops startup', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir(), TOKEN_PROFILE_LONG_ACCESS_EXPIRATION: '48h' })).toThrow(/long token profile's access lifetime .* exceeds JWT_EXPIRATION_MAX/);
    expect(() => loadConfig({ DATA_DIR: dataDir(), JWT_EXPIRATION_MAX: '1h' })).toThrow(/exceeds JWT_EXPIRATION_MAX/);
    expect(() => loadConfig({ DATA_DIR: dataDir(), REFRESH_TOKEN_EXPIRATION_MAX: '48h' })).toThrow(/exceeds REFRESH_TOKEN_EXPIRATION_MAX/);
  });
});
