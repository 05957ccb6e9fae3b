// The cache module on its own, on each backend (the Redis ones when TEST_REDIS_URL is set): a fill
// that was reading the database when an invalidation happened never stores what it read; an
// invalidation reaches another instance's copy; nothing secret is stored; Redis unreachable means the
// database answers.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Cache, Caches, InvalidationBus, rowCodec, type CacheSettings, type CacheType } from '../../src/ops/cache.js';
import { createLogger } from '../../src/ops/logger.js';
import { Metrics } from '../../src/ops/metrics.js';
import { closeRedis, connectRedis } from '../../src/ops/redis.js';
import { startOwnRedis, waitUntil, type OwnRedis } from '../helpers/redis-server.js';
import type { User } from '../../src/db/client.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const logger = createLogger('silent');
const settings = (type: CacheType): CacheSettings => ({ type, ttlMs: 60_000, clientTtlMs: 30_000, maxBytes: 1024 * 1024 });
const codec = rowCodec<{ v: string }>([]);

const connections: Redis[] = [];
function connect(): Redis {
  const redis = new Redis(REDIS_URL!, { lazyConnect: false, maxRetriesPerRequest: 1 });
  connections.push(redis);
  return redis;
}
afterAll(async () => {
  await Promise.all(connections.map((r) => r.quit().catch(() => r.disconnect())));
});

/** One "instance": its own cache over the shared Redis (when any), with its own subscription. */
// The metrics the caches count into (each server instance has its own; these caches share one).
const metrics = new Metrics();

async function instance(type: CacheType, prefix: string): Promise<Cache<{ v: string }>> {
  if (!REDIS_URL) return new Cache('user', settings(type), codec, { keyPrefix: prefix, logger, metrics });
  const bus = new InvalidationBus(connect(), connect(), `${prefix}cache-invalidations`);
  await bus.subscribe();
  return new Cache('user', settings(type), codec, { redis: connect(), bus, keyPrefix: prefix, logger, metrics });
}

const TYPES: CacheType[] = REDIS_URL ? ['memory', 'redis', 'redis-aside'] : ['memory'];

describe.each(TYPES)('%s cache', (type) => {
  let prefix: string;
  beforeEach(() => {
    prefix = `authgate-test:${randomUUID()}:`;
  });

  test('read through, then answered without the loader', async () => {
    const cache = await instance(type, prefix);
    let loads = 0;
    const load = async () => ({ v: `load ${++loads}` });
    const counted = async () => ({
      hits: (await metrics.cacheHits.get()).values.find((v) => v.labels.cache === 'user')?.value ?? 0,
      misses: (await metrics.cacheMisses.get()).values.find((v) => v.labels.cache === 'user')?.value ?? 0,
    });
    const before = await counted();
    expect(await cache.get('k', load)).toEqual({ v: 'load 1' });
    expect(await cache.get('k', load)).toEqual({ v: 'load 1' });
    expect(loads).toBe(1);
    // cache_hits_total / cache_misses_total{cache="user"}
    expect(await counted()).toEqual({ hits: before.hits + 1, misses: before.misses + 1 });
    await cache.invalidate(['k']);
    expect(await cache.get('k', load)).toEqual({ v: 'load 2' });
  });

  test.each(['one key', 'everything'])('a fill overtaken by an invalidation (%s) does not store what it read', async (scope) => {
    const cache = await instance(type, prefix);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // A reader reads the old row ...
    const stale = cache.get('k', async () => {
      await gate;
      return { v: 'old' };
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    // ... a writer commits and invalidates meanwhile ...
    await (scope === 'one key' ? cache.invalidate(['k']) : cache.clear());
    release();
    // ... the reader answers what it read (it started before the write), but does not keep it.
    expect(await stale).toEqual({ v: 'old' });
    expect(await cache.get('k', async () => ({ v: 'new' }))).toEqual({ v: 'new' });
  });

  test('a null (unknown row) is not cached', async () => {
    const cache = await instance(type, prefix);
    expect(await cache.get('k', async () => null)).toBeNull();
    expect(await cache.get('k', async () => ({ v: 'created' }))).toEqual({ v: 'created' });
  });

  (REDIS_URL ? test : test.skip)('an invalidation on one instance has reached the other when it returns', async () => {
    const a = await instance(type, prefix);
    const b = await instance(type, prefix);
    let loadsB = 0;
    const loadB = async () => ({ v: `b ${++loadsB}` });
    for (let round = 1; round <= 20; round++) {
      expect(await b.get('k', loadB)).toEqual({ v: `b ${round}` });
      expect(await b.get('k', loadB)).toEqual({ v: `b ${round}` }); // from B's copy
      await (round % 2 ? a.invalidate(['k']) : a.clear());
      expect(loadsB).toBe(round);
    }
    expect(await b.get('k', loadB)).toEqual({ v: 'b 21' });
  });
});

test('the user cache keeps no password hash, in memory or in Redis', async () => {
  const prefix = `authgate-test:${randomUUID()}:`;
  const caches = new Caches(
    { client: settings('memory'), user: settings(REDIS_URL ? 'redis' : 'memory'), token: settings('memory') },
    { redis: REDIS_URL ? connect() : undefined, keyPrefix: prefix, logger },
  );
  const row = { id: 'u1', username: 'ann', passwordHash: '$2a$10$abcdefghijklmnopqrstuv', active: true, createdAt: new Date(), updatedAt: new Date(), lastLoginAt: null } as unknown as User;
  await caches.user('u1', async () => row);
  const cached = await caches.user('u1', async () => {
    throw new Error('not from the cache');
  });
  expect(cached?.passwordHash).not.toBe(row.passwordHash);
  expect(cached?.passwordHash).not.toBeNull();
  expect(cached?.createdAt).toBeInstanceOf(Date);
  if (REDIS_URL) {
    const stored = await connect().get(`${prefix}cache:user:v:u1`);
    expect(stored).toContain('ann');
    expect(stored).not.toContain(row.passwordHash!);
  }
  caches.close();
});

(REDIS_URL ? test : test.skip)('Redis unreachable: the database answers, and the local copy is not trusted until the subscription is back', async () => {
  const prefix = `authgate-test:${randomUUID()}:`;
  const subscriber = connect();
  const bus = new InvalidationBus(connect(), subscriber, `${prefix}cache-invalidations`);
  await bus.subscribe();
  const cache = new Cache('user', settings('memory'), codec, { redis: connect(), bus, keyPrefix: prefix, logger });
  let loads = 0;
  const load = async () => ({ v: `load ${++loads}` });
  await cache.get('k', load);
  await cache.get('k', load);
  expect(loads).toBe(1);
  subscriber.disconnect(); // invalidations could be missed from now on
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(bus.live).toBe(false);
  await cache.get('k', load);
  expect(loads).toBe(2);
});

(REDIS_URL ? describe : describe.skip)('confirmations: an invalidation waits for every instance that received it', () => {
  const channel = () => `authgate-test:${randomUUID()}:cache-invalidations`;

  /**
   * An instance that confirms late, or never: a subscription that plays the receiving side of the
   * protocol by hand (an instance of an earlier version, which sent no confirmations, is `never`).
   */
  async function receiver(name: string, confirmAfterMs: number | 'never'): Promise<{ received: string[]; ids: (string | undefined)[] }> {
    const subscriber = connect();
    const publisher = connect();
    const received: string[] = [];
    const ids: (string | undefined)[] = [];
    subscriber.on('message', (_channel: string, raw: string) => {
      const message = JSON.parse(raw) as { origin: string; id?: string; keys: string[] };
      received.push(...message.keys);
      ids.push(message.id);
      const id = message.id;
      if (confirmAfterMs === 'never' || id === undefined) return;
      setTimeout(() => void publisher.publish(`${name}:confirm:${message.origin}`, id), confirmAfterMs);
    });
    await subscriber.subscribe(name);
    return { received, ids };
  }

  test('a receiver that confirms late: publish returns after its confirmation, with none missing', async () => {
    const name = channel();
    const bus = new InvalidationBus(connect(), connect(), name, 5000);
    await bus.subscribe();
    const slow = await receiver(name, 300);
    const started = Date.now();
    expect(await bus.publish('token', ['k'])).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(slow.received).toEqual(['k']);
  });

  test('two real instances and a lone one: each publication is confirmed by all', async () => {
    const name = channel();
    const buses = [new InvalidationBus(connect(), connect(), name), new InvalidationBus(connect(), connect(), name), new InvalidationBus(connect(), connect(), name)];
    for (const bus of buses) await bus.subscribe();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => buses[i % 3]!.publish('user', [`k${i}`])));
    expect(results).toEqual(Array(30).fill(0));
    const lone = new InvalidationBus(connect(), connect(), channel());
    await lone.subscribe();
    expect(await lone.publish('user', 'all')).toBe(0); // only its own subscription received it
  });

  test('a receiver that never confirms: the change returns at the deadline, logged and counted', async () => {
    const name = channel();
    const lines: string[] = [];
    const seen = createLogger('warn', { write: (line: string) => void lines.push(line) });
    const counted = new Metrics();
    const bus = new InvalidationBus(connect(), connect(), name, 200);
    await bus.subscribe();
    const cache = new Cache('token', settings('memory'), codec, { redis: connect(), bus, keyPrefix: 'unused:', logger: seen, metrics: counted });
    const silent = await receiver(name, 'never');
    const started = Date.now();
    await cache.invalidate(['k']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(silent.received).toEqual(['k']);
    expect(lines.join('\n')).toMatch(/not confirmed in time by every instance/);
    expect(await counted.registry.metrics()).toMatch(/cache_invalidations_unconfirmed_total\{cache="token"\} 1/);
    expect(cache.enabled).toBe(true); // Redis took it: nothing to repair
  });

  test('CACHE_INVALIDATION_TIMEOUT=0: no wait, and nothing for the receivers to confirm', async () => {
    const name = channel();
    const bus = new InvalidationBus(connect(), connect(), name, 0);
    await bus.subscribe();
    const first = await receiver(name, 'never');
    await receiver(name, 'never');
    const started = Date.now();
    expect(await bus.publish('client', ['k'])).toBe(0);
    expect(Date.now() - started).toBeLessThan(150);
    await waitUntil(() => first.received.length === 1, 1000, 10);
    expect(first.ids).toEqual([undefined]); // a message without an id asks for no confirmation
  });
});

describe('Redis stopped and started again (a Redis of the test’s own)', () => {
  let own: OwnRedis;
  const opened: Redis[] = [];
  beforeAll(async () => {
    own = await startOwnRedis();
  }, 20_000);
  afterAll(async () => {
    for (const redis of opened) await closeRedis(redis);
    await own.stop();
  });

  async function ownInstance(prefix: string, type: CacheType = 'memory') {
    const [commands, subscriber] = [await connectRedis(own.url, logger), await connectRedis(own.url, logger)];
    opened.push(commands, subscriber);
    const bus = new InvalidationBus(commands, subscriber, `${prefix}cache-invalidations`);
    await bus.subscribe();
    return { bus, cache: new Cache('user', settings(type), codec, { redis: commands, bus, keyPrefix: prefix, logger }) };
  }

  test('while the subscription is down the local copy is not used; afterwards invalidations flow again', async () => {
    const prefix = `authgate-test:${randomUUID()}:`;
    const a = await ownInstance(prefix);
    const b = await ownInstance(prefix);
    let loads = 0;
    const load = async () => ({ v: `load ${++loads}` });
    await b.cache.get('k', load);
    await b.cache.get('k', load);
    expect(loads).toBe(1);

    await own.stop();
    await waitUntil(() => !b.bus.live, 5000, 10);
    await b.cache.get('k', load); // invalidations could be missed now: the database answers
    expect(loads).toBe(2);
    // An invalidation that cannot be published: A reads the database until a full one gets through.
    await a.cache.invalidate(['k']);
    expect(a.cache.enabled).toBe(false);

    await own.start();
    await waitUntil(() => b.bus.live && a.cache.enabled, 10_000, 20);
    await b.cache.get('k', load);
    await b.cache.get('k', load);
    expect(loads).toBe(3);
    const started = Date.now();
    await a.cache.invalidate(['k']);
    await waitUntil(async () => (await b.cache.get('k', load))?.v === 'load 4', 1000, 10);
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);

  test('a Redis copy an invalidation could not reach is not served once Redis is back', async () => {
    const prefix = `authgate-test:${randomUUID()}:`;
    const a = await ownInstance(prefix, 'redis');
    const b = await ownInstance(prefix, 'redis');
    let loads = 0;
    const load = async () => ({ v: `load ${++loads}` });
    await b.cache.get('k', load);
    await b.cache.get('k', load);
    expect(loads).toBe(1);
    const valueKey = `${prefix}cache:user:v:k`;
    const inspector = await connectRedis(own.url, logger);
    opened.push(inspector);
    const saved = await inspector.get(valueKey);
    expect(saved).toContain('load 1');
    await own.stop();
    await waitUntil(() => !b.bus.live, 5000, 10);
    await a.cache.invalidate(['k']); // the row changed meanwhile; Redis cannot be told
    expect(a.cache.enabled).toBe(false);
    await own.start();
    // A Redis that kept its data (this one restarts empty) would still hold the old copy:
    await waitUntil(() => inspector.status === 'ready', 5000, 10);
    await inspector.set(valueKey, saved!);
    // ... the repair's full invalidation retires it.
    await waitUntil(() => a.cache.enabled, 10_000, 20);
    expect(await b.cache.get('k', load)).toEqual({ v: 'load 2' });
  }, 30_000);
});
