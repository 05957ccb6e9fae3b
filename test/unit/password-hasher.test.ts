// The password hashing pool (src/identity/password-hasher.ts): real worker threads running bcryptjs.
// bcryptjs is imported here only to make hashes the way existing databases hold them.
import { jest } from '@jest/globals';
import bcrypt from 'bcryptjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError, TemporarilyUnavailable } from '../../src/domain/errors.js';
import { BCRYPT_COST, defaultPasswordHashWorkers, PasswordHasher } from '../../src/identity/password-hasher.js';
import { captureLog } from '../helpers/log-capture.js';

const PASSWORD = 'correct horse battery staple';

let open: PasswordHasher[] = [];
function pool(workers: number, opts: { maxQueue?: number; logger?: ReturnType<typeof captureLog>['logger'] } = {}): PasswordHasher {
  const hasher = new PasswordHasher({ workers, ...opts });
  open.push(hasher);
  return hasher;
}
afterEach(async () => {
  await Promise.all(open.map((hasher) => hasher.close()));
  open = [];
});

/** The longest time between two ticks of a 1 ms interval while `work` runs: how long the event loop was blocked. */
async function longestStall(work: () => Promise<unknown>): Promise<{ longest: number; ticks: number }> {
  let last = performance.now();
  let longest = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
  }, 1);
  try {
    await work();
    // The last stretch counts too: up to the moment the work was done.
    longest = Math.max(longest, performance.now() - last);
  } finally {
    clearInterval(timer);
  }
  return { longest, ticks };
}

/** Field 19 (nice) of a thread of this process, read from /proc by the main thread. */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('hashing and checking', () => {
  test('a new hash is bcrypt at the configured cost and checks true for its password, false for another', async () => {
    const hasher = pool(1);
    const hash = await hasher.hash(PASSWORD);
    expect(hash).toMatch(new RegExp(`^\\$2b\\$${BCRYPT_COST}\\$.{53}$`));
    expect(await hasher.compare(PASSWORD, hash)).toBe(true);
    expect(await hasher.compare(`${PASSWORD}!`, hash)).toBe(false);
    expect(await hasher.verify(hash, PASSWORD)).toBe(true);
    expect(await hasher.verify(hash, 'wrong')).toBe(false);
    // Made on a thread, checked by bcryptjs directly: the same format as before.
    expect(bcrypt.compareSync(PASSWORD, hash)).toBe(true);
  }, 20_000);

  test('hashes made by bcryptjs directly ($2a$, $2b$, $2y$; another cost) check as before', async () => {
    const hasher = pool(1);
    const made = bcrypt.hashSync(PASSWORD, 4);
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const stored = prefix + made.slice(4);
      expect(await hasher.compare(PASSWORD, stored)).toBe(true);
      expect(await hasher.verify(stored, 'not it')).toBe(false);
    }
    const atCost10 = bcrypt.hashSync(PASSWORD, 10);
    expect(await hasher.verify(atCost10, PASSWORD)).toBe(true);
  }, 20_000);

  test('a malformed stored hash is an error, not a match', async () => {
    const hasher = pool(1);
    await expect(hasher.compare(PASSWORD, '$9z$10$' + 'x'.repeat(53))).rejects.toThrow(/^bcrypt: Invalid salt version/);
    // The thread survives a caller's error.
    expect(await hasher.compare(PASSWORD, await hasher.hash(PASSWORD))).toBe(true);
  }, 20_000);

  test('without a hash: false, at the cost of one bcrypt; the stand-in hash is made once, through the pool', async () => {
    const hasher = pool(1);
    const hash = jest.spyOn(hasher, 'hash');
    const compare = jest.spyOn(hasher, 'compare');
    expect(await hasher.verify(null, PASSWORD)).toBe(false);
    expect(hash).toHaveBeenCalledTimes(1); // making the stand-in is this attempt's cost
    expect(compare).toHaveBeenCalledTimes(0);
    expect(await hasher.verify(undefined, PASSWORD)).toBe(false);
    expect(await hasher.verify('', 'authgate-timing-equaliser')).toBe(false);
    expect(hash).toHaveBeenCalledTimes(1);
    expect(compare).toHaveBeenCalledTimes(2);
    expect(hasher.threads().length).toBe(1);
  }, 20_000);

  test('with 0 workers it hashes on the main thread, in the same format, and starts no thread', async () => {
    const hasher = pool(0);
    const hash = await hasher.hash(PASSWORD);
    expect(hash.startsWith(`$2b$${BCRYPT_COST}$`)).toBe(true);
    expect(await hasher.verify(hash, PASSWORD)).toBe(true);
    expect(await hasher.verify(null, PASSWORD)).toBe(false);
    expect(hasher.threads()).toEqual([]);
  }, 20_000);
});

describe('the event loop while passwords are hashed', () => {
  test('5 concurrent comparisons on the pool: a 1 ms interval never waits 30 ms; on the main thread it does', async () => {
    const hash = bcrypt.hashSync(PASSWORD, BCRYPT_COST);
    const workers = pool(defaultPasswordHashWorkers());
    // Threads started and bcryptjs loaded before measuring: the measure is the comparisons.
    await Promise.all(Array.from({ length: workers.size }, () => workers.hash('warm-up')));
    const offLoop = await longestStall(async () => {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => workers.compare(i === 0 ? PASSWORD : `wrong-${i}`, hash)));
      expect(results).toEqual([true, false, false, false, false]);
    });
    expect(offLoop.longest).toBeLessThan(30);
    expect(offLoop.ticks).toBeGreaterThan(5);

    // The measure can fail: the same comparisons on the main thread block it (bcryptjs runs ~100 ms slices).
    const main = pool(0);
    const onLoop = await longestStall(() => Promise.all(Array.from({ length: 5 }, () => main.compare(PASSWORD, hash))));
    expect(onLoop.longest).toBeGreaterThan(50);
  }, 30_000);
});

describe('refusing, failing and closing', () => {
  test('a full queue refuses at once with TemporarilyUnavailable; what was accepted completes', async () => {
    const hasher = pool(1, { maxQueue: 2 });
    const accepted = [hasher.hash('one'), hasher.hash('two'), hasher.hash('three')]; // one running, two waiting
    const refused = hasher.hash('four');
    await expect(refused).rejects.toBeInstanceOf(TemporarilyUnavailable);
    await expect(refused).rejects.toMatchObject({ status: 503, error: 'temporarily_unavailable' });
    const hashes = await Promise.all(accepted);
    expect(bcrypt.compareSync('three', hashes[2]!)).toBe(true);
    // Room again once the queue drained.
    expect(await hasher.compare('four', await hasher.hash('four'))).toBe(true);
  }, 20_000);

  test('a thread that dies during a job: the job is rejected (not left hanging), logged, and the next job gets a new thread', async () => {
    const log = captureLog();
    const hasher = pool(1, { logger: log.logger });
    const hash = await hasher.hash(PASSWORD);
    const [first] = hasher.threads();
    const job = hasher.compare(PASSWORD, hash);
    expect(hasher.threads()[0]).toMatchObject({ busy: true });
    await first!.worker.terminate();
    await expect(job).rejects.toBeInstanceOf(TemporarilyUnavailable);
    expect(hasher.threads()).toEqual([]);
    expect(log.lines()).toEqual([expect.objectContaining({ level: 'error', msg: 'a password hashing thread stopped; the next job starts a new one', failed_job: true })]);

    expect(await hasher.compare(PASSWORD, hash)).toBe(true);
    const [second] = hasher.threads();
    expect(second!.worker.threadId).not.toBe(first!.worker.threadId);
  }, 20_000);

  test('jobs waiting behind a thread that died are carried on by a new one', async () => {
    const hasher = pool(1);
    const hash = await hasher.hash(PASSWORD);
    const [first] = hasher.threads();
    const running = hasher.compare(PASSWORD, hash);
    const waiting = [hasher.compare(PASSWORD, hash), hasher.compare('wrong', hash)];
    await first!.worker.terminate();
    await expect(running).rejects.toBeInstanceOf(TemporarilyUnavailable);
    expect(await Promise.all(waiting)).toEqual([true, false]);
  }, 20_000);

  test('close(): waiting and new jobs are refused, the running one too, and the threads end', async () => {
    const hasher = pool(1);
    await hasher.hash('start');
    const jobs = Promise.allSettled([hasher.hash('a'), hasher.hash('b'), hasher.hash('c')]);
    await hasher.close();
    for (const job of await jobs) expect(job).toEqual({ status: 'rejected', reason: expect.any(TemporarilyUnavailable) });
    expect(hasher.threads()).toEqual([]);
    await expect(hasher.hash('after')).rejects.toBeInstanceOf(TemporarilyUnavailable);
    await hasher.close(); // twice is fine
  }, 20_000);

  test('no thread starts before a job needs one, and never more than the size', async () => {
    const hasher = pool(2);
    expect(hasher.threads()).toEqual([]);
    const jobs = Array.from({ length: 5 }, (_, i) => hasher.hash(`p${i}`));
    expect(hasher.threads().length).toBe(2);
    await Promise.all(jobs);
    expect(hasher.threads().length).toBe(2);
    expect(hasher.threads().every((thread) => !thread.busy)).toBe(true);
  }, 20_000);
});

describe('thread priority', () => {
  (process.platform === 'linux' ? test : test.skip)('Linux: each worker thread lowers its own nice value by 10; the main thread and every other thread keep theirs', async () => {
    const tasks = () => readdirSync('/proc/self/task').map(Number);
    const before = new Map(tasks().map((tid) => [tid, niceOf(tid)]));
    const mainNice = niceOf(process.pid);
    expect(getPriority(0)).toBe(mainNice);

    const hasher = pool(2);
    await Promise.all([hasher.hash('a'), hasher.hash('b')]);
    const threads = hasher.threads();
    expect(threads.length).toBe(2);
    const workerTids = new Set(threads.map((thread) => thread.tid));
    for (const thread of threads) {
      expect(thread.tid).toEqual(expect.any(Number));
      expect(thread.tid).not.toBe(process.pid);
      // Read from here, in /proc, not taken from the worker's word.
      expect(niceOf(thread.tid!)).toBe(Math.min(19, mainNice + 10));
      expect(thread.nice).toBe(niceOf(thread.tid!));
    }
    expect(niceOf(process.pid)).toBe(mainNice);
    expect(getPriority(0)).toBe(mainNice);
    for (const tid of tasks()) {
      if (workerTids.has(tid)) continue;
      // Threads that existed before (libuv's pool, V8's helpers) are untouched; any new one was started at the process's value.
      expect([tid, niceOf(tid)]).toEqual([tid, before.get(tid) ?? mainNice]);
    }
  }, 20_000);
});

describe('PASSWORD_HASH_WORKERS', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'authgate-password-hasher-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = (env: Record<string, string> = {}) => loadConfig({ DATA_DIR: dataDir, ...env });

  test('default: 1 on up to 2 cores, else one less than the cores', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultPasswordHashWorkers(cores))).toEqual([1, 1, 2, 3, 15]);
    expect(config().passwordHashWorkers).toBe(defaultPasswordHashWorkers());
  });

  test('read as a whole number from 0 to 64; anything else stops startup naming it', () => {
    const load = (value: string) => config({ PASSWORD_HASH_WORKERS: value }).passwordHashWorkers;
    expect(load('0')).toBe(0);
    expect(load('3')).toBe(3);
    for (const bad of ['-1', '65', 'two', '1.5']) {
      expect(() => load(bad)).toThrow(ConfigError);
      expect(() => load(bad)).toThrow(/^PASSWORD_HASH_WORKERS must be an integer between 0 and 64/);
    }
  });
});
