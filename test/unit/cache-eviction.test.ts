// The in-process cache layer's bound: least recently used entries leave first (ops/cache.ts LocalLayer).
// A hit moves its entry to the newest end only once it has drifted into the older half of the order;
// these tests hold it to what that must still guarantee.
import { Cache, rowCodec, type CacheSettings } from '../../src/ops/cache.js';
import { createLogger } from '../../src/ops/logger.js';

type Row = { v: string };
// Keys of four characters and the row {"v":"x"} (nine): thirteen bytes an entry, ten entries fit.
const ENTRY_BYTES = 4 + JSON.stringify({ v: 'x' }).length;
const CAPACITY = 10;

function cache(): Cache<Row> {
  const settings: CacheSettings = { type: 'memory', ttlMs: 60_000, clientTtlMs: 60_000, maxBytes: CAPACITY * ENTRY_BYTES };
  return new Cache<Row>('user', settings, rowCodec<Row>([]), { keyPrefix: 't:', logger: createLogger('silent') });
}
const key = (i: number) => `k${String(i).padStart(3, '0')}`;
const store = (c: Cache<Row>, k: string) => c.get(k, async () => ({ v: 'x' }));
/** Whether `k` is cached, without storing anything on a miss. */
async function cached(c: Cache<Row>, k: string): Promise<boolean> {
  let loaded = false;
  await c.get(k, async () => {
    loaded = true;
    return null;
  });
  return !loaded;
}

test('an entry read since it was stored outlives the entries that were not read', async () => {
  const c = cache();
  for (let i = 0; i < CAPACITY; i++) await store(c, key(i));
  expect(await cached(c, key(0))).toBe(true); // the oldest, read
  await store(c, key(CAPACITY)); // one over the bound: one entry leaves
  expect(await cached(c, key(1))).toBe(false); // the oldest not read
  expect(await cached(c, key(0))).toBe(true);
  for (let i = 2; i <= CAPACITY; i++) expect(await cached(c, key(i))).toBe(true);
});

test('an entry read between every store stays however many entries pass through', async () => {
  const c = cache();
  await store(c, 'hot0');
  for (let i = 0; i < 50 * CAPACITY; i++) {
    await store(c, key(i));
    expect(await cached(c, 'hot0')).toBe(true);
  }
});

test('the bound holds: after many stores only the newest entries are left', async () => {
  const c = cache();
  for (let i = 0; i < 300; i++) await store(c, key(i));
  const left: number[] = [];
  for (let i = 0; i < 300; i++) if (await cached(c, key(i))) left.push(i);
  expect(left).toEqual(Array.from({ length: CAPACITY }, (_, n) => 300 - CAPACITY + n));
});
