// Password hashing off the event loop: bcrypt runs on a small pool of worker threads
// (password-worker.js), so a sign-in's ~100 ms of hashing does not stall every other request.
//
// - Size: PASSWORD_HASH_WORKERS (config/env.ts): by default 1 on a machine with up to 2 cores, else
//   one less than the cores; 0 hashes on the main thread (bcryptjs's sliced asynchronous form, as before).
//   Threads start when the first job needs one, so an idle server (or a test that signs nobody in)
//   starts none.
// - Priority: each worker lowers its own CPU priority on Linux (see password-worker.js), so a burst of
//   sign-ins cannot starve token requests on a small machine. A failure to do so is logged once.
// - Queue: at most `maxQueue` jobs wait for a thread; beyond that a job is refused at once with
//   TemporarilyUnavailable (the login page answers 503 "try again") rather than waiting for minutes.
// - Failure: a worker that dies (crash, out of memory, terminated) rejects its job with
//   TemporarilyUnavailable and the next job starts a new one; nothing hangs.
// - Shutdown: close() refuses what waits and ends the threads. Idle threads are unref'd, and a thread
//   is ref'd only while it runs a job, so the pool never keeps the process alive by itself.
//
// The only module that loads bcryptjs is password-worker.js: with workers it loads in their threads only.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TemporarilyUnavailable } from '../domain/errors.js';
import { errorFields, type Logger } from '../ops/logger.js';
import type { Job, JobResult, Ready } from './password-worker.js';

/** bcryptjs is pure JavaScript; cost 10 keeps one hash or comparison near 100 ms on these machines. */
export const BCRYPT_COST = 10;
/** Jobs that may wait for a thread before new ones are refused. */
export const DEFAULT_MAX_QUEUE = 256;

// Named from here, so it is the same file under jest (src/identity/) and in production (dist/identity/):
// see the head of password-worker.js.
const WORKER_URL = new URL('./password-worker.js', import.meta.url);
// Type-checked against the worker's own constant, without importing the worker module (and bcryptjs).
const WORKER_MARKER: typeof import('./password-worker.js').WORKER_MARKER = 'authgate-password-worker';
// Hashed once, lazily, as the stand-in compared against when there is no hash (see verify()).
const DUMMY_PASSWORD = 'authgate-timing-equaliser';

const BUSY = 'Too many passwords are being checked right now. Please try again in a moment.';
const FAILED = 'The password could not be checked just now. Please try again.';
const SHUTTING_DOWN = 'The server is shutting down. Please try again in a moment.';

/** PASSWORD_HASH_WORKERS's default: one thread on up to 2 cores (the event loop keeps one), else cores − 1. */
export function defaultPasswordHashWorkers(cores = availableParallelism()): number {
  return cores <= 2 ? 1 : cores - 1;
}

export interface PasswordHasherOptions {
  /** Worker threads; 0 = hash on the main thread. */
  workers: number;
  /** Jobs that may wait for a thread (default 256). */
  maxQueue?: number;
  logger?: Logger;
}

type JobInput = { op: 'hash'; password: string; cost: number } | { op: 'compare'; password: string; hash: string };

interface Pending {
  job: Job;
  resolve(value: string | boolean): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  /** The job it runs; a worker runs one at a time. */
  job?: Pending;
  /** It loaded and reported in (a worker that dies before this could not start at all). */
  ready: boolean;
  /** Its kernel thread id and nice value as it reported them (Linux). */
  tid?: number;
  nice?: number;
  /** The uncaught error it died of, if any. */
  error?: Error;
}

/** A pool thread as seen from outside, for diagnostics and tests. */
export interface HasherThread {
  worker: Worker;
  tid?: number;
  nice?: number;
  busy: boolean;
}

export class PasswordHasher {
  readonly size: number;
  private readonly maxQueue: number;
  private readonly logger?: Logger;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;
  private closing?: Promise<void>;
  private reniceReported = false;
  private dummy?: Promise<string>;
  private mainThread?: Promise<typeof import('./password-worker.js')>;

  constructor(opts: PasswordHasherOptions) {
    if (!Number.isInteger(opts.workers) || opts.workers < 0) throw new RangeError(`workers must be a whole number, got ${opts.workers}`);
    this.size = opts.workers;
    this.maxQueue = opts.maxQueue ?? DEFAULT_MAX_QUEUE;
    this.logger = opts.logger;
  }

  /** A new bcrypt hash of `password` (cost BCRYPT_COST). */
  async hash(password: string): Promise<string> {
    return (await this.run({ op: 'hash', password, cost: BCRYPT_COST })) as string;
  }

  /** True when `password` matches the bcrypt `hash` ($2a$, $2b$ or $2y$, any cost). */
  async compare(password: string, hash: string): Promise<boolean> {
    return (await this.run({ op: 'compare', password, hash })) as boolean;
  }

  /**
   * True when `password` matches `hash`; without a hash (no such user, or an account without a local
   * password) it costs as much as a wrong password and is false, so response timing does not reveal
   * which usernames exist. The stand-in hash is made once, through the pool, the first time it is
   * needed; that first time, making it is the cost.
   */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (hash) return this.compare(password, hash);
    if (!this.dummy) {
      const making = this.hash(DUMMY_PASSWORD);
      this.dummy = making;
      // Refused or lost (queue full, shutdown): the next caller tries again.
      making.catch(() => {
        if (this.dummy === making) this.dummy = undefined;
      });
      await making;
      return false;
    }
    await this.compare(password, await this.dummy);
    return false;
  }

  /** The threads running now. */
  threads(): HasherThread[] {
    return this.slots.map((slot) => ({ worker: slot.worker, tid: slot.tid, nice: slot.nice, busy: Boolean(slot.job) }));
  }

  /** Refuses waiting and new jobs, and ends the threads (a job still running is rejected). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      for (const pending of this.queue.splice(0)) pending.reject(new TemporarilyUnavailable(SHUTTING_DOWN));
      await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    })();
    return this.closing;
  }

  private run(input: JobInput): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new TemporarilyUnavailable(SHUTTING_DOWN));
    if (this.size === 0) return this.runOnMainThread(input);
    return new Promise((resolve, reject) => {
      const pending: Pending = { job: { ...input, id: this.nextId++ }, resolve, reject };
      const slot = this.freeSlot();
      if (slot) return this.assign(slot, pending);
      if (this.queue.length >= this.maxQueue) return reject(new TemporarilyUnavailable(BUSY, 1));
      this.queue.push(pending);
    });
  }

  private async runOnMainThread(input: JobInput): Promise<string | boolean> {
    this.mainThread ??= import('./password-worker.js');
    const { runOnMainThread } = await this.mainThread;
    return runOnMainThread({ ...input, id: 0 });
  }

  /** An idle thread, or a new one while the pool is below its size. */
  private freeSlot(): Slot | undefined {
    return this.slots.find((slot) => !slot.job) ?? (this.slots.length < this.size ? this.spawn() : undefined);
  }

  private assign(slot: Slot, pending: Pending): void {
    slot.job = pending;
    slot.worker.ref(); // a job in flight keeps the process alive until its answer arrives
    slot.worker.postMessage(pending.job);
  }

  /** Hands waiting jobs to free threads. */
  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const slot = this.freeSlot();
      if (!slot) return;
      this.assign(slot, this.queue.shift()!);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { workerData: WORKER_MARKER });
    const slot: Slot = { worker, ready: false };
    worker.unref();
    worker.on('message', (message: Ready | JobResult) => this.onMessage(slot, message));
    worker.on('error', (err: Error) => {
      slot.error = err;
    });
    worker.on('exit', (code: number) => this.onExit(slot, code));
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, message: Ready | JobResult): void {
    if ('type' in message) {
      slot.ready = true;
      slot.tid = message.tid;
      slot.nice = message.nice;
      if (message.reniceError && !this.reniceReported) {
        this.reniceReported = true;
        this.logger?.warn('could not lower the CPU priority of the password hashing threads; they run at normal priority', { error: message.reniceError });
      }
      return;
    }
    const pending = slot.job;
    if (!pending || pending.job.id !== message.id) return;
    slot.job = undefined;
    slot.worker.unref();
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new Error(`bcrypt: ${message.message}`));
    this.dispatch();
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    const pending = slot.job;
    slot.job = undefined;
    if (this.closed) {
      pending?.reject(new TemporarilyUnavailable(SHUTTING_DOWN));
      return;
    }
    this.logger?.error(slot.ready ? 'a password hashing thread stopped; the next job starts a new one' : 'a password hashing thread could not start', {
      exit_code: code,
      failed_job: Boolean(pending),
      ...(slot.error ? errorFields(slot.error) : {}),
    });
    pending?.reject(new TemporarilyUnavailable(FAILED));
    if (!slot.ready) {
      // The next thread would most likely fail to start the same way: refuse what waits instead of
      // starting one thread per waiting job. A later job tries again.
      for (const waiting of this.queue.splice(0)) waiting.reject(new TemporarilyUnavailable(FAILED));
      return;
    }
    this.dispatch();
  }
}
