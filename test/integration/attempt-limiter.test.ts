// The attempt limiter's rules, the same for the in-memory and the Redis implementation; and with
// Redis, failures counted on one instance slow the same key on another.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAuthGate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';
import { attemptGuard, MemoryAttemptLimiter, RedisAttemptLimiter, type AttemptLimiter } from '../../src/ops/attempt-limiter.js';
import { connectRedis } from '../../src/ops/redis.js';
import { createLogger } from '../../src/ops/logger.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { ADMIN_PASSWORD, freePort, startTestServer } from '../helpers/server.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
const limits = { maxFailures: 3, windowMs: 2000 };

function contract(name: string, make: () => Promise<{ limiter: AttemptLimiter; done(): Promise<void> }>) {
  describe(`${name} attempt limiter`, () => {
    test('allows failures up to the limit, then makes the key wait until the window ends', async () => {
      const { limiter, done } = await make();
      try {
        for (let i = 0; i < 2; i++) await limiter.recordFailure('k');
        expect(await limiter.retryAfter('k')).toBe(0);
        await limiter.recordFailure('k');
        const wait = await limiter.retryAfter('k');
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(2);
        expect(await limiter.retryAfter('other')).toBe(0);
        await new Promise((r) => setTimeout(r, 2100));
        expect(await limiter.retryAfter('k')).toBe(0);
      } finally {
        await done();
      }
    });

    test('later failures do not extend the window; reset clears it', async () => {
      const { limiter, done } = await make();
      try {
        for (let i = 0; i < 3; i++) await limiter.recordFailure('k');
        await new Promise((r) => setTimeout(r, 1100));
        await limiter.recordFailure('k');
        expect(await limiter.retryAfter('k')).toBe(1);
        await limiter.reset('k');
        expect(await limiter.retryAfter('k')).toBe(0);
      } finally {
        await done();
      }
    });
  });
}

contract('in-memory', async () => ({ limiter: new MemoryAttemptLimiter(limits), done: async () => {} }));

if (REDIS_URL) {
  contract('Redis', async () => {
    const redis = await connectRedis(REDIS_URL);
    return { limiter: new RedisAttemptLimiter(redis, limits, `authgate-test:${randomUUID()}:`), done: async () => void (await redis.quit()) };
  });
}

describe('attempt guard: per subject and per address', () => {
  test('spraying many subjects from one address is slowed; a success resets only its subject', async () => {
    const limiters = { perSubject: new MemoryAttemptLimiter({ maxFailures: 2, windowMs: 60_000 }), perAddress: new MemoryAttemptLimiter({ maxFailures: 4, windowMs: 60_000 }) };
    const guard = (user: string) => attemptGuard(limiters, { subject: `login:1.2.3.4:${user}`, address: 'login:1.2.3.4' });
    await guard('alice').failed();
    await guard('alice').failed();
    expect(await guard('alice').wait()).toBeGreaterThan(0); // alice's own limit
    expect(await guard('bob').wait()).toBe(0);
    await guard('bob').failed();
    await guard('carol').failed();
    expect(await guard('dave').wait()).toBeGreaterThan(0); // the address limit: 4 failures from 1.2.3.4
    await guard('alice').succeeded();
    expect(await limiters.perSubject.retryAfter('login:1.2.3.4:alice')).toBe(0);
    expect(await limiters.perAddress.retryAfter('login:1.2.3.4')).toBeGreaterThan(0);
    const elsewhere = attemptGuard(limiters, { subject: 'login:5.6.7.8:dave', address: 'login:5.6.7.8' });
    expect(await elsewhere.wait()).toBe(0);
  });
});

describe('Redis configuration', () => {
  test('a bad REDIS_URL scheme is a configuration error', () => {
    expect(() => loadConfig({ DATA_DIR: '/tmp/authgate-unused', REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must start with redis:\/\//);
  });

  test('an unreachable Redis stops startup', async () => {
    const server = await startTestServer();
    try {
      const config = { ...server.config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
      await expect(createAuthGate(config, createLogger('silent'))).rejects.toThrow(ConfigError);
    } finally {
      await server.close();
    }
  });
});

describeRedis('several instances share attempt counters through Redis', () => {
  test('wrong codes entered on one instance slow the same user on the other', async () => {
    const prefix = `authgate-test:${randomUUID()}:`;
    const a = await startTestServer({ REDIS_URL: REDIS_URL!, REDIS_KEY_PREFIX: prefix });
    const b = await createAuthGate(a.config, createLogger('silent'));
    const port = await freePort();
    await b.listen(port, '127.0.0.1');
    try {
      const onA = new ScriptedBrowser(a.url);
      await onA.login('admin', ADMIN_PASSWORD);
      for (let i = 0; i < 5; i++) await onA.submit(await onA.get('/device'), '/device/verify', { user_code: 'BCDF-GHJK' });
      const onB = new ScriptedBrowser(`http://127.0.0.1:${port}`);
      await onB.login('admin', ADMIN_PASSWORD);
      const blocked = await onB.submit(await onB.get('/device'), '/device/verify', { user_code: 'BCDF-GHJK' });
      expect(blocked.status).toBe(429);
      const inspector = new Redis(REDIS_URL!);
      expect((await inspector.keys(`${prefix}*`)).length).toBeGreaterThan(0);
      await inspector.quit();
    } finally {
      await b.close();
      await a.close();
    }
  });
});
