// CLIENT_CACHE_*, USER_CACHE_*, TOKEN_CACHE_*: AuthGate's names, defaults and units; every bad value
// is a ConfigError naming the variable; a Redis backend without Redis stops startup.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIMPLEMENTED_NAMES, VARIABLES } from '../../src/config/authgate-compat.js';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';

const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'authgate-cache-config-')), ...env });
const refused = (env: Record<string, string>, message: RegExp) => {
  expect(() => load(env)).toThrow(ConfigError);
  expect(() => load(env)).toThrow(message);
};

test("defaults: client and user caches in memory for 5 minutes (AuthGate's), the token cache on in memory for 10 hours (AuthGate's is off)", () => {
  const { caches, warnings } = load({});
  const mb32 = 32 * 1024 * 1024;
  expect(caches.client).toEqual({ type: 'memory', ttlMs: 300_000, clientTtlMs: 30_000, maxBytes: mb32 });
  expect(caches.user).toEqual({ type: 'memory', ttlMs: 300_000, clientTtlMs: 30_000, maxBytes: mb32 });
  expect(caches.token).toEqual({ type: 'memory', ttlMs: 36_000_000, clientTtlMs: 3_600_000, maxBytes: mb32 });
  expect(warnings).toEqual([]);
  expect(load({ TOKEN_CACHE_ENABLED: 'false' }).caches.token.type).toBe('none');
});

test('each variable is read, in AuthGate’s units, and none is reported as unimplemented', () => {
  const { caches, warnings } = load({
    REDIS_URL: 'redis://127.0.0.1:6379',
    CLIENT_CACHE_TYPE: 'redis',
    CLIENT_CACHE_TTL: '2m',
    USER_CACHE_TYPE: 'redis-aside',
    USER_CACHE_CLIENT_TTL: '10s',
    USER_CACHE_SIZE_PER_CONN: '8',
    TOKEN_CACHE_ENABLED: 'true',
    TOKEN_CACHE_TYPE: 'none',
    TOKEN_CACHE_TTL: '1h',
  });
  expect(caches.client).toMatchObject({ type: 'redis', ttlMs: 120_000 });
  expect(caches.user).toMatchObject({ type: 'redis-aside', clientTtlMs: 10_000, maxBytes: 8 * 1024 * 1024 });
  expect(caches.token).toMatchObject({ type: 'none', ttlMs: 3_600_000 });
  expect(warnings).toEqual([]);
  for (const prefix of ['CLIENT', 'USER', 'TOKEN']) {
    for (const suffix of ['TYPE', 'TTL', 'CLIENT_TTL', 'SIZE_PER_CONN']) {
      expect(UNIMPLEMENTED_NAMES).not.toContain(`${prefix}_CACHE_${suffix}`);
      expect(VARIABLES.map((v) => v.name)).toContain(`${prefix}_CACHE_${suffix}`);
    }
  }
  expect(load({ TOKEN_CACHE_ENABLED: 'true' }).caches.token.type).toBe('memory');
});

test.each([
  [{ USER_CACHE_TYPE: 'memcached' }, /USER_CACHE_TYPE must be one of memory, redis, redis-aside, none/],
  [{ CLIENT_CACHE_TTL: 'soon' }, /CLIENT_CACHE_TTL must be a duration/],
  [{ TOKEN_CACHE_TTL: '-5m' }, /TOKEN_CACHE_TTL must be a duration/],
  [{ USER_CACHE_TTL: '0' }, /USER_CACHE_TTL must be at least 1 seconds/],
  [{ CLIENT_CACHE_CLIENT_TTL: '0s' }, /CLIENT_CACHE_CLIENT_TTL must be at least 1 seconds/],
  [{ TOKEN_CACHE_SIZE_PER_CONN: '-1' }, /TOKEN_CACHE_SIZE_PER_CONN must be an integer/],
  [{ USER_CACHE_SIZE_PER_CONN: 'lots' }, /USER_CACHE_SIZE_PER_CONN must be an integer/],
  [{ TOKEN_CACHE_ENABLED: 'maybe' }, /TOKEN_CACHE_ENABLED must be true or false/],
])('%p is refused, naming the variable', (env, message) => {
  refused(env, message);
});

test('a Redis backend without Redis stops startup, naming the variable', () => {
  refused({ CLIENT_CACHE_TYPE: 'redis' }, /CLIENT_CACHE_TYPE=redis needs Redis/);
  refused({ TOKEN_CACHE_ENABLED: 'true', TOKEN_CACHE_TYPE: 'redis-aside' }, /TOKEN_CACHE_TYPE=redis-aside needs Redis/);
  refused({ TOKEN_CACHE_TYPE: 'redis' }, /TOKEN_CACHE_TYPE=redis needs Redis/);
  // The token cache switched off needs nothing.
  expect(load({ TOKEN_CACHE_ENABLED: 'false', TOKEN_CACHE_TYPE: 'redis' }).caches.token.type).toBe('none');
});

test('CACHE_INVALIDATION_TIMEOUT (this server only): how long a change waits for every instance to confirm; 1 s unless set, 0 = no wait', () => {
  expect(load({}).cacheInvalidationTimeoutMs).toBe(1000);
  expect(load({ CACHE_INVALIDATION_TIMEOUT: '250ms' }).cacheInvalidationTimeoutMs).toBe(250);
  expect(load({ CACHE_INVALIDATION_TIMEOUT: '3' }).cacheInvalidationTimeoutMs).toBe(3000);
  expect(load({ CACHE_INVALIDATION_TIMEOUT: '0' }).cacheInvalidationTimeoutMs).toBe(0);
  expect(VARIABLES.find((v) => v.name === 'CACHE_INVALIDATION_TIMEOUT')).toMatchObject({ default: '1s', authgate: false });
  refused({ CACHE_INVALIDATION_TIMEOUT: 'soon' }, /CACHE_INVALIDATION_TIMEOUT must be a duration/);
  refused({ CACHE_INVALIDATION_TIMEOUT: '2m' }, /CACHE_INVALIDATION_TIMEOUT must be between 0 ms and 60 s/);
});
