// The Redis connection for shared state between instances. Connected, pinged and version-checked at
// startup: a configured but unreachable (or too old) Redis stops the server instead of silently
// falling back to per-instance state. Once running, an outage is survived: ioredis reconnects with a
// capped backoff, the outage is logged (throttled) and shown by the `redis_up` gauge, and the limits
// decide what to do meanwhile (see attempt-limiter.ts).
import { Redis } from 'ioredis';
import { ConfigError } from '../domain/errors.js';
import { throttledLog } from './log-throttle.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { checkRedisVersion } from './redis-version.js';

const ERROR_LOG_INTERVAL_MS = 30_000;

/** `opts.metrics`: the instance whose `redis_up` gauge follows this connection (the shared one, not the audit stream's). */
export async function connectRedis(url: string, logger: Logger, opts: { connectTimeoutMs?: number; metrics?: Metrics } = {}): Promise<Redis> {
  const redisUp = { set: (value: number) => opts.metrics?.redisUp.set(value) };
  let started = false;
  let lastError: Error | undefined;
  let down = false;
  let closing = false;
  const where = redactedUrl(url);
  const errors = throttledLog(logger, 'error', ERROR_LOG_INTERVAL_MS);
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: opts.connectTimeoutMs ?? 5000, // REDIS_CONN_TIMEOUT
    // A Redis that accepts the connection but stops answering must not hold a sign-in for long.
    commandTimeout: 2000,
    // How long a closing socket may linger; the default (2 s) holds shutdown and test runs open for nothing.
    disconnectTimeout: 200,
    // At startup one failed attempt is the answer; once running, reconnect with a capped backoff.
    retryStrategy: (times) => (started ? Math.min(times * 200, 2000) : null),
  });
  redis.on('error', (err: Error) => {
    lastError = err;
    if (started) errors.log('Redis connection error; limits follow RATE_LIMIT_FAIL_CLOSED until it returns', { redis: where, error: err.message });
  });
  redis.on('close', () => {
    if (!started || down || closing) return;
    down = true;
    redisUp.set(0);
    logger.error('Redis is down; reconnecting', { redis: where, error: lastError?.message });
  });
  redis.on('ready', () => {
    redisUp.set(1);
    if (!down) return;
    down = false;
    errors.reset();
    logger.info('Redis is back', { redis: where });
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(`Redis (REDIS_URL, or RATE_LIMIT_STORE=redis with REDIS_ADDR) cannot be reached at ${where}: ${(lastError ?? (err as Error)).message}`);
  }
  try {
    checkRedisVersion(await redis.info('server'));
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  started = true;
  redisUp.set(1);
  // Our own shutdown closes the connection too: that is not an outage.
  closingHooks.set(redis, () => {
    closing = true;
  });
  return redis;
}

const closingHooks = new WeakMap<Redis, () => void>();

/** Closes at once when Redis is down: QUIT would wait in the offline queue for a server that is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  closingHooks.get(redis)?.();
  if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
  else redis.disconnect();
}

/** The URL for logs: a password in it must not reach them. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}
