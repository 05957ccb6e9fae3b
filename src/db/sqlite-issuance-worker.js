// @ts-check
// The SQLite half of the issuance group commit (issuance-writer.ts), on a thread of its own with a
// connection of its own. A commit waits for an fsync of the WAL (synchronous=FULL, set by the
// connection setup client.ts gives every connection), and
// better-sqlite3 only works synchronously: on the main thread that wait stalled every request (a fifth
// of the token endpoint's time), and nothing could arrive to join the next batch. Here the main thread
// keeps serving while a batch commits, and what arrives meanwhile becomes the next batch.
//
// It runs the statements it is given (the SQL lives in issuance-writer.ts) with the rows it is sent
// (issued tokens with their audit events; device polls' times), one IMMEDIATE transaction per batch (the write lock first, as every write transaction here takes
// it), and answers, for each row, whether its token was written. Prisma's connection is another
// SQLite connection to the same file: SQLite's own locking orders the two (busy timeout as configured).
//
// Plain JavaScript for the reason password-worker.js gives: a worker is loaded by Node itself.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * @typedef {{ file: string, busyTimeoutMs: number, setup: string, tokenSql: string, auditSql: string, pollSql: string }} Settings
 * @typedef {[unknown[], unknown[] | null]} Item the token row's parameters, the audit row's (or null)
 * @typedef {{ id: number, kind: 'issue' | 'polls' | 'flushes', items: string }} Request items as JSON: Item[] to issue, parameter
 *   lists of pollSql for polls; 'flushes' asks whether this connection flushes the WAL at every commit (synchronous FULL or EXTRA)
 * @typedef {{ id: number, results: boolean[] } | { id: number, error: { message: string, code?: string } }} Answer
 */

if (parentPort) {
  const port = parentPort;
  const settings = /** @type {Settings} */ (workerData);
  const db = new Database(settings.file, { timeout: settings.busyTimeoutMs });
  db.exec(settings.setup);
  const token = db.prepare(settings.tokenSql);
  const audit = db.prepare(settings.auditSql);
  const poll = db.prepare(settings.pollSql);
  const recordPolls = db.transaction((/** @type {unknown[][]} */ items) => items.map((params) => poll.run(params).changes === 1));
  const write = db.transaction((/** @type {Item[]} */ items) =>
    items.map(([tokenParams, auditParams]) => {
      const written = token.run(tokenParams).changes === 1;
      if (written && auditParams) audit.run(auditParams);
      return written;
    }),
  );
  port.on('message', (/** @type {Request} */ { id, kind, items }) => {
    /** @type {Answer} */
    let answer;
    try {
      const parsed = JSON.parse(items);
      answer = {
        id,
        results:
          kind === 'flushes' ? [Number(db.pragma('synchronous', { simple: true })) >= 2] : kind === 'polls' ? recordPolls.immediate(parsed) : write.immediate(parsed),
      };
    } catch (err) {
      const e = /** @type {{ message?: string, code?: string }} */ (err);
      answer = { id, error: { message: String(e.message ?? err), ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
    }
    port.postMessage(answer);
  });
}
