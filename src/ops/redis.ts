// The Redis connection for shared state between instances. Connected and pinged at startup: a
// configured but unreachable Redis stops the server instead of silently falling back to per-instance state.
import { Redis } from 'ioredis';
import { ConfigError } from '../domain/errors.js';

export async function connectRedis(url: string): Promise<Redis> {
  let started = false;
  let lastError: Error | undefined;
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    // How long a closing socket may linger; the default (2 s) holds shutdown and test runs open for nothing.
    disconnectTimeout: 200,
    // At startup one failed attempt is the answer; once running, reconnect with a capped backoff.
    retryStrategy: (times) => (started ? Math.min(times * 200, 2000) : null),
  });
  // ioredis reconnects by itself; commands that fail meanwhile reject where they are issued.
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new ConfigError(`REDIS_URL is set but Redis cannot be reached: ${(lastError ?? (err as Error)).message}`);
  }
  started = true;
  return redis;
}
