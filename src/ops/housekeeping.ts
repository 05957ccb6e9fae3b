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
