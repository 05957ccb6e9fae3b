// @ts-check
// bcrypt, the only module that loads bcryptjs. It runs as a worker thread of the password hashing pool
// (password-hasher.ts), or is imported on the main thread when PASSWORD_HASH_WORKERS=0.
//
// Plain JavaScript (type-checked through JSDoc, compiled to dist/ by tsc with allowJs) on purpose: a
// worker thread is loaded by Node itself, outside any test transform, so the file must be runnable as
// it is. The pool finds it as `new URL('./password-worker.js', import.meta.url)`, which names this
// file both under jest (src/identity/, TypeScript run by ts-jest) and in production (dist/identity/).
// No build step, loader hook or eval'd source is involved, so both cases load the same code.
import bcrypt from 'bcryptjs';
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** workerData that marks a thread as this pool's worker (anything else importing this file only gets the functions). */
export const WORKER_MARKER = 'authgate-password-worker';

/** How much lower the workers' CPU priority is than the process's (nice values, capped at 19). */
export const WORKER_NICE_INCREMENT = 10;

/**
 * @typedef {{ id: number, op: 'hash', password: string, cost: number } | { id: number, op: 'compare', password: string, hash: string }} Job
 * @typedef {{ id: number, ok: true, value: string | boolean } | { id: number, ok: false, message: string }} JobResult
 * @typedef {{ type: 'ready', tid?: number, nice?: number, reniceError?: string }} Ready
 */

/**
 * Runs one job to completion, synchronously: inside a worker nothing else waits for this thread.
 * @param {Job} job
 * @returns {string | boolean}
 */
export function runSync(job) {
  return job.op === 'hash' ? bcrypt.hashSync(job.password, job.cost) : bcrypt.compareSync(job.password, job.hash);
}

/**
 * The same on the main thread (PASSWORD_HASH_WORKERS=0): bcryptjs's asynchronous form, which yields
 * between slices of about 100 ms but still blocks the event loop for each slice.
 * @param {Job} job
 * @returns {Promise<string | boolean>}
 */
export function runOnMainThread(job) {
  return job.op === 'hash' ? bcrypt.hash(job.password, job.cost) : bcrypt.compare(job.password, job.hash);
}

/**
 * This thread's kernel id and nice value, from /proc (Linux).
 * @returns {{ tid: number, nice: number } | undefined}
 */
function threadStat() {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; nice is field 19.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid: Number(stat.slice(0, stat.indexOf(' '))), nice: Number(rest[16]) };
  } catch {
    return undefined;
  }
}

/**
 * Lowers this thread's CPU priority, so a burst of sign-ins cannot starve the event loop (token
 * requests) on a small machine. Linux only: there setpriority(PRIO_PROCESS, 0) acts on the calling
 * thread alone (NPTL threads are kernel tasks with their own nice value; the pool's tests check it in
 * /proc). Elsewhere it would renice the whole process, the event loop included, so it is not done.
 * @returns {string | undefined} why it failed, if it did
 */
function lowerPriority() {
  if (process.platform !== 'linux') return undefined;
  try {
    const current = getPriority(0);
    setPriority(0, Math.min(19, current + WORKER_NICE_INCREMENT));
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

if (parentPort && workerData === WORKER_MARKER) {
  const port = parentPort;
  const reniceError = lowerPriority();
  /** @type {Ready} */
  const ready = { type: 'ready', ...threadStat(), reniceError };
  port.postMessage(ready);
  port.on('message', (/** @type {Job} */ job) => {
    /** @type {JobResult} */
    let result;
    try {
      result = { id: job.id, ok: true, value: runSync(job) };
    } catch (err) {
      // bcryptjs throws on a malformed hash or salt: the caller's error, not the worker's end.
      result = { id: job.id, ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(result);
  });
}
