// Periodic cleanup so tables do not grow forever: expired device and authorization codes, ended
// sessions, tokens long past expiry, and sealed rotation successors past their grace window. Every instance may run it; the deletes are idempotent.
import type { Db } from '../db/client.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';

// Kept a while after expiry: a late poll or a replayed code should still find its row and get the
// precise error (expired_token, or code reuse → revocation) rather than "unknown".
const CODE_GRACE_MS = 60 * 60_000;
// Expired tokens stay listable for a week (account pages, audits) before they go.
const TOKEN_RETENTION_MS = 7 * 24 * 60 * 60_000;

export async function runHousekeeping(db: Db, now = new Date()): Promise<Record<string, number>> {
  const codeCutoff = new Date(now.getTime() - CODE_GRACE_MS);
  const tokenCutoff = new Date(now.getTime() - TOKEN_RETENTION_MS);
  const [deviceCodes, authorizationCodes, sessions, tokens, sealedSuccessors] = await Promise.all([
    db.deviceCode.deleteMany({ where: { expiresAt: { lt: codeCutoff } } }),
    db.authorizationCode.deleteMany({ where: { expiresAt: { lt: codeCutoff } } }),
    db.session.deleteMany({ where: { OR: [{ expiresAt: { lt: now } }, { absoluteExpiresAt: { lt: now } }] } }),
    db.token.deleteMany({ where: { expiresAt: { lt: tokenCutoff } } }),
    // Refresh rotation grace: a sealed successor is kept no longer than its window (services/rotation-grace.ts).
    db.token.updateMany({ where: { successorSealedUntil: { lt: now } }, data: { successorSealed: null, successorSealedUntil: null } }),
  ]);
  return {
    deviceCodes: deviceCodes.count,
    authorizationCodes: authorizationCodes.count,
    sessions: sessions.count,
    tokens: tokens.count,
    sealedSuccessors: sealedSuccessors.count,
  };
}

export function scheduleHousekeeping(db: Db, logger: Logger, intervalMs: number): () => void {
  const timer = setInterval(() => {
    runHousekeeping(db)
      .then((removed) => logger.debug('housekeeping', removed))
      .catch((err: unknown) => logger.warn('housekeeping failed', errorFields(err)));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

// --- Audit retention (AUDIT_LOG_RETENTION, AUDIT_LOG_CLEANUP_INTERVAL) ---------------------------
// Events older than the retention window are deleted in chunks of AUDIT_RETENTION_CHUNK rows: each
// chunk is one read of the oldest ids through the createdAt index and one DELETE by primary key, so
// no statement holds the table (or, on SQLite, the one writer's turn) for longer than a thousand rows
// take, and other requests' statements run between the chunks. A backlog of millions is worked off
// the same way, chunk by chunk. Every instance may run it: the deletes are idempotent.

export const AUDIT_RETENTION_CHUNK = 1000;
// The first run waits a little after startup (not a whole interval: a server restarted more often
// than AUDIT_LOG_CLEANUP_INTERVAL would otherwise never clean up).
const FIRST_AUDIT_RETENTION_DELAY_MS = 60_000;

export interface AuditRetentionResult {
  deleted: number;
  /** DELETE statements run (chunks). */
  batches: number;
}

export async function pruneAuditEvents(
  db: Db,
  opts: { retentionSeconds: number; now?: Date; chunkSize?: number; shouldStop?: () => boolean },
): Promise<AuditRetentionResult> {
  const result: AuditRetentionResult = { deleted: 0, batches: 0 };
  if (opts.retentionSeconds <= 0) return result; // 0 = keep forever
  const cutoff = new Date((opts.now ?? new Date()).getTime() - opts.retentionSeconds * 1000);
  const chunkSize = opts.chunkSize ?? AUDIT_RETENTION_CHUNK;
  while (!opts.shouldStop?.()) {
    const rows = await db.auditEvent.findMany({ where: { createdAt: { lt: cutoff } }, select: { id: true }, orderBy: { createdAt: 'asc' }, take: chunkSize });
    if (rows.length === 0) break;
    // The time condition again: an id is deleted only while it is still older than the cutoff.
    const { count } = await db.auditEvent.deleteMany({ where: { id: { in: rows.map((row) => row.id) }, createdAt: { lt: cutoff } } });
    result.deleted += count;
    result.batches++;
    if (rows.length < chunkSize) break;
    // Let other work in (a request's statements, the audit writer) before the next chunk.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return result;
}

/** Runs pruneAuditEvents every `intervalMs` (first after a minute, or `firstDelayMs`); the returned stop waits for a run in progress. */
export function scheduleAuditRetention(
  db: Db,
  logger: Logger,
  opts: { retentionSeconds: number; intervalMs: number; firstDelayMs?: number },
): () => Promise<void> {
  if (opts.retentionSeconds <= 0) {
    logger.info('audit retention off (AUDIT_LOG_RETENTION=0): audit events are kept forever');
    return async () => {};
  }
  let stopped = false;
  let running: Promise<void> | undefined;
  const run = () => {
    if (running || stopped) return; // a slow run is not overlapped by the next
    const started = Date.now();
    running = pruneAuditEvents(db, { retentionSeconds: opts.retentionSeconds, shouldStop: () => stopped })
      .then((result) => {
        if (result.deleted > 0) logger.info('audit retention: old events deleted', { ...result, retention_seconds: opts.retentionSeconds, ms: Date.now() - started });
        else logger.debug('audit retention: nothing to delete', { retention_seconds: opts.retentionSeconds });
      })
      .catch((err: unknown) => logger.warn('audit retention failed; next run at the next interval', errorFields(err)))
      .finally(() => (running = undefined));
  };
  const first = setTimeout(run, opts.firstDelayMs ?? Math.min(FIRST_AUDIT_RETENTION_DELAY_MS, opts.intervalMs));
  first.unref();
  const timer = setInterval(run, opts.intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
