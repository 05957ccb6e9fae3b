// The limiter's rules, the same in memory and on Redis (rate-limiter-flexible behind both); the
// guessing policy built on it (count first, refund what did not happen, a success resets only its
// subject); and with Redis, failures counted on one instance slow the same key on another.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createAuthGate } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError, InvalidCredentials, TooManyAttempts } from '../../src/domain/errors.js';
import { LimitStore, type WindowLimiter } from '../../src/ops/attempt-limiter.js';
import { createLogger } from '../../src/ops/logger.js';
import { connectRedis } from '../../src/ops/redis.js';
import { AttemptPolicy } from '../../src/services/attempt-policy.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { ADMIN_PASSWORD, freePort, startTestServer, type TestServer } from '../helpers/server.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const describeRedis = REDIS_URL ? describe : describe.skip;
const silent = createLogger('silent');

type MakeStore = () => Promise<{ store: LimitStore; done(): Promise<void> }>;

const memoryStore: MakeStore = async () => ({ store: new LimitStore({ keyPrefix: 'test:', failClosed: false, logger: silent }), done: async () => {} });
const redisStore: MakeStore = async () => {
  const redis = await connectRedis(REDIS_URL!, silent);
  return { store: new LimitStore({ redis, keyPrefix: `authgate-test:${randomUUID()}:`, failClosed: false, logger: silent }), done: async () => void (await redis.quit()) };
};

function contract(name: string, make: MakeStore) {
  describe(`${name} window limiter`, () => {
    test('allows up to the limit, then refuses until the window ends; the first refusal is marked once', async () => {
      const { store, done } = await make();
      try {
        const limiter = store.limiter('t', { points: 3, windowSeconds: 2 });
        for (let i = 0; i < 3; i++) expect(await limiter.consume('k')).toEqual({ allowed: true });
        const first = await limiter.consume('k');
        expect(first).toMatchObject({ allowed: false, firstRefusal: true });
        expect(first.allowed === false && first.retryAfter).toBeGreaterThan(0);
        expect(first.allowed === false && first.retryAfter).toBeLessThanOrEqual(2);
        expect(await limiter.consume('k')).toMatchObject({ allowed: false, firstRefusal: false });
        expect(await limiter.consume('other')).toEqual({ allowed: true });
        await new Promise((r) => setTimeout(r, 2100));
        expect(await limiter.consume('k')).toEqual({ allowed: true });
      } finally {
        await done();
      }
    });

    test('refund gives one back; reset forgets the key', async () => {
      const { store, done } = await make();
      try {
        const limiter = store.limiter('t', { points: 2, windowSeconds: 60 });
        await limiter.consume('k');
        await limiter.consume('k');
        await limiter.refund('k');
        expect(await limiter.consume('k')).toEqual({ allowed: true });
        expect((await limiter.consume('k')).allowed).toBe(false);
        await limiter.reset('k');
        expect(await limiter.consume('k')).toEqual({ allowed: true });
      } finally {
        await done();
      }
    });

    test('racing consumes: exactly the limit gets through, exactly one refusal is the first (10 rounds)', async () => {
      const { store, done } = await make();
      try {
        const limiter = store.limiter('race', { points: 5, windowSeconds: 60 });
        for (let round = 0; round < 10; round++) {
          const results = await Promise.all(Array.from({ length: 20 }, () => limiter.consume(`k${round}`)));
          expect(results.filter((r) => r.allowed)).toHaveLength(5);
          expect(results.filter((r) => !r.allowed && r.firstRefusal)).toHaveLength(1);
        }
      } finally {
        await done();
      }
    });
  });
}

contract('in-memory', memoryStore);
if (REDIS_URL) contract('Redis', redisStore);

describe('the guessing policy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  function policy() {
    const store = new LimitStore({ keyPrefix: 'test:', failClosed: false, logger: silent });
    const limiters = { perSubject: store.limiter('s', { points: 2, windowSeconds: 60 }), perAddress: store.limiter('a', { points: 4, windowSeconds: 60 }) };
    const event = `TEST_LOCKED_OUT_${randomUUID()}`;
    return { limiters, event, policy: new AttemptPolicy(limiters, server.authgate.services.audit, event) };
  }
  const who = { actor: { username: 'someone' }, request: { ip: '1.2.3.4' } };
  const wrong = async () => {
    throw new InvalidCredentials();
  };
  const right = async () => 'ok';
  const isFailure = (err: unknown) => err instanceof InvalidCredentials;
  const remaining = async (limiter: WindowLimiter, key: string) => {
    let n = 0;
    while ((await limiter.consume(key)).allowed) n++;
    return n;
  };

  test('spraying many accounts from one address is slowed by the address limit', async () => {
    const { policy: p } = policy();
    for (const user of ['alice', 'bob', 'carol', 'dave']) await expect(p.guard({ subject: user, address: '1.2.3.4' }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    await expect(p.guard({ subject: 'erin', address: '1.2.3.4' }, who, right, isFailure)).rejects.toThrow(TooManyAttempts);
    expect(await p.guard({ subject: 'erin', address: '5.6.7.8' }, who, right, isFailure)).toBe('ok');
  });

  test('an IPv6 /64 is one address: a sprayer cannot step through its own prefix; another /64 and the IPv4 spelling of an address are told apart', async () => {
    const { policy: p } = policy();
    for (const [i, user] of ['alice', 'bob', 'carol', 'dave'].entries()) {
      await expect(p.guard({ subject: user, address: `2001:db8:5:6::${i + 1}` }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    }
    await expect(p.guard({ subject: 'erin', address: '2001:db8:5:6:ffff::99' }, who, right, isFailure)).rejects.toThrow(TooManyAttempts);
    expect(await p.guard({ subject: 'erin', address: '2001:db8:5:7::1' }, who, right, isFailure)).toBe('ok');
    // A dual-stack socket's spelling of an IPv4 peer is that IPv4 address.
    for (const user of ['frank', 'grace', 'heidi', 'ivan']) await expect(p.guard({ subject: user, address: '::ffff:192.0.2.7' }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    await expect(p.guard({ subject: 'judy', address: '192.0.2.7' }, who, right, isFailure)).rejects.toThrow(TooManyAttempts);
  });

  test('an account is limited whatever the address; a locked-out attempt is never evaluated nor counted against its address', async () => {
    const { policy: p, limiters } = policy();
    await expect(p.guard({ subject: 'alice', address: '10.0.0.1' }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    await expect(p.guard({ subject: 'alice', address: '10.0.0.2' }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    let evaluated = false;
    const attempt = async () => {
      evaluated = true;
      return 'ok';
    };
    const refused = p.guard({ subject: 'alice', address: '10.0.0.3' }, who, attempt, isFailure);
    await expect(refused).rejects.toBeInstanceOf(TooManyAttempts);
    expect(evaluated).toBe(false);
    expect(await remaining(limiters.perAddress, '10.0.0.3')).toBe(4);
  });

  test('a success is not counted and resets its account only', async () => {
    const { policy: p, limiters } = policy();
    await expect(p.guard({ subject: 'alice', address: '1.2.3.4' }, who, wrong, isFailure)).rejects.toThrow(InvalidCredentials);
    for (let i = 0; i < 5; i++) expect(await p.guard({ subject: 'alice', address: '1.2.3.4' }, who, right, isFailure)).toBe('ok');
    // Five successes after one failure: the account is back to zero, the address still holds its one failure.
    expect(await remaining(limiters.perSubject, 'alice')).toBe(2);
    expect(await remaining(limiters.perAddress, '1.2.3.4')).toBe(3);
  });

  test('an error that is not a wrong guess (e.g. the database is down) does not count', async () => {
    const { policy: p, limiters } = policy();
    const broken = async () => {
      throw new Error('database unreachable');
    };
    for (let i = 0; i < 3; i++) await expect(p.guard({ subject: 'bob', address: '1.2.3.4' }, who, broken, isFailure)).rejects.toThrow('database unreachable');
    expect(await remaining(limiters.perSubject, 'bob')).toBe(2);
  });

  test('the lockout is audited once per window and kind, at WARNING, without any password', async () => {
    const { policy: p, event } = policy();
    for (let i = 0; i < 6; i++) await p.guard({ subject: 'carol', address: '9.9.9.9' }, who, wrong, isFailure).catch(() => {});
    await server.authgate.services.audit.flush();
    const rows = await server.authgate.db.auditEvent.findMany({ where: { eventType: event } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ severity: 'WARNING', success: false, actorUsername: 'someone', ipAddress: '1.2.3.4' });
    expect(JSON.parse(rows[0]!.details)).toMatchObject({ subject_kind: 'account', max_failures: 2, window_seconds: 60 });
  });
});

describe('Redis configuration', () => {
  test('a bad REDIS_URL scheme is a configuration error', () => {
    expect(() => loadConfig({ DATA_DIR: '/tmp/authgate-unused', REDIS_URL: 'http://x' })).toThrow(/REDIS_URL must start with redis:\/\//);
  });

  test('RATE_LIMIT_FAIL_CLOSED is off by default and must be a boolean', () => {
    expect(loadConfig({ DATA_DIR: '/tmp/authgate-unused' }).rateLimits.failClosed).toBe(false);
    expect(loadConfig({ DATA_DIR: '/tmp/authgate-unused', RATE_LIMIT_FAIL_CLOSED: 'true' }).rateLimits.failClosed).toBe(true);
    expect(() => loadConfig({ DATA_DIR: '/tmp/authgate-unused', RATE_LIMIT_FAIL_CLOSED: 'maybe' })).toThrow(/RATE_LIMIT_FAIL_CLOSED/);
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
