// The oldest Redis server this code works with, derived from the commands it sends. Checked at
// startup (INFO server) so an old server is refused with a clear message instead of failing later,
// one request at a time, with "ERR syntax error".
import { ConfigError } from '../domain/errors.js';

type Version = [number, number, number];

/** Each command (or option) the server needs, the Redis version that introduced it, and who sends it. */
export const REDIS_REQUIREMENTS: ReadonlyArray<{ command: string; since: Version; usedBy: string }> = [
  { command: 'EVAL / EVALSHA', since: [2, 6, 0], usedBy: "rate-limiter-flexible's atomic counter script (through ioredis defineCommand)" },
  { command: 'PTTL', since: [2, 6, 0], usedBy: 'rate-limiter-flexible (time left in a window)' },
  { command: 'SET key value EX seconds NX', since: [2, 6, 12], usedBy: "rate-limiter-flexible's counter script (opens a window once)" },
  { command: 'INFO server', since: [2, 6, 0], usedBy: 'this startup check' },
];

export const MINIMUM_REDIS_VERSION: Version = REDIS_REQUIREMENTS.reduce<Version>((max, r) => (compare(r.since, max) > 0 ? r.since : max), [0, 0, 0]);

/** The `redis_version` field of an `INFO server` reply, or undefined when absent or malformed. */
export function parseRedisVersion(info: string): Version | undefined {
  const match = /^redis_version:(\d+)\.(\d+)\.(\d+)/m.exec(info);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

/** Throws a ConfigError naming REDIS_URL when the server behind it is too old (or does not say). */
export function checkRedisVersion(info: string): Version {
  const version = parseRedisVersion(info);
  if (!version) throw new ConfigError(`REDIS_URL: the server did not report redis_version in INFO server; cannot check it is Redis ${MINIMUM_REDIS_VERSION.join('.')} or later`);
  if (compare(version, MINIMUM_REDIS_VERSION) < 0) {
    const missing = REDIS_REQUIREMENTS.filter((r) => compare(version, r.since) < 0)
      .map((r) => `${r.command} (Redis ${r.since.join('.')}, ${r.usedBy})`)
      .join('; ');
    throw new ConfigError(`REDIS_URL points at Redis ${version.join('.')}, but AuthGate needs Redis ${MINIMUM_REDIS_VERSION.join('.')} or later for: ${missing}`);
  }
  return version;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
