// The database side of the metrics: query durations (a Prisma query extension, one timer per
// operation) and the gauges that need a count (active tokens, device codes, sessions), refreshed on an
// interval rather than per scrape. In a multi-instance deployment every instance would count the same
// rows, so METRICS_GAUGE_UPDATE_ENABLED lets one replica own them (AuthGate's advice: enable it on one,
// or aggregate with max()/avg() rather than sum()).
import type { Db } from '../db/client.js';
import type { Logger } from './logger.js';
import { errorFields } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * The same client, with every operation timed into `database_query_duration_seconds{model,operation}`
 * (raw statements as model "raw"). Transactions opened on it are timed too.
 */
export function instrumentDb(db: Db, metrics: Metrics): Db {
  const histogram = metrics.dbQueryDuration;
  const extended = db.$extends({
    name: 'metrics',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const started = process.hrtime.bigint();
        try {
          return await query(args);
        } finally {
          histogram.observe({ model: model ?? 'raw', operation }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      },
    },
  });
  // The model API and $transaction are unchanged: the rest of the code keeps the plain client's type.
  return extended as unknown as Db;
}

/** Counts the rows behind the gauges once. Each count failing on its own leaves its gauge as it was. */
export async function updateGauges(db: Db, metrics: Metrics, countSessions: () => Promise<number>, now = new Date()): Promise<void> {
  const live = { gt: now };
  const counts: [string, () => Promise<number>, (n: number) => void][] = [
    ['count_access_tokens', () => db.token.count({ where: { category: 'access', status: 'active', expiresAt: live } }), (n) => metrics.tokensActive.set({ token_type: 'access' }, n)],
    ['count_refresh_tokens', () => db.token.count({ where: { category: 'refresh', status: 'active', expiresAt: live } }), (n) => metrics.tokensActive.set({ token_type: 'refresh' }, n)],
    ['count_device_codes', () => db.deviceCode.count({ where: { status: { in: ['pending', 'approved'] }, revokedAt: null, expiresAt: live } }), (n) => metrics.deviceCodesActive.set(n)],
    ['count_pending_device_codes', () => db.deviceCode.count({ where: { status: 'pending', expiresAt: live } }), (n) => metrics.deviceCodesPending.set(n)],
    // From the session store (the database, or Redis with SESSION_STORE=redis).
    ['count_sessions', countSessions, (n) => metrics.sessionsActive.set(n)],
  ];
  const results = await Promise.allSettled(counts.map(([, count]) => count()));
  results.forEach((result, i) => {
    const [operation, , set] = counts[i]!;
    if (result.status === 'fulfilled') set(result.value);
    else metrics.dbQueryErrors.inc({ operation });
  });
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Refreshes the gauges now and every `intervalMs`; returns the function that stops it. */
export function scheduleGaugeUpdates(db: Db, metrics: Metrics, logger: Logger, intervalMs: number, countSessions: () => Promise<number>): () => void {
  let running = false;
  const run = () => {
    if (running) return; // a slow database: never two rounds at once
    running = true;
    updateGauges(db, metrics, countSessions)
      .catch((err: unknown) => logger.warn('metrics gauge update failed', errorFields(err)))
      .finally(() => (running = false));
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
