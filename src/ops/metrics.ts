// The process's Prometheus registry and the metrics other modules update, in prom-client rather than
// hand-written counters: it already speaks the Prometheus text format. One registry per process:
// several AuthGate instances in one process (tests) share it, so read these as deltas there.
import { Counter, Gauge, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

/** 1 while the shared Redis connection is ready, 0 while it is down (reconnecting); absent without Redis. */
export const redisUp = new Gauge({ name: 'redis_up', help: 'Whether the Redis connection is ready (1) or down (0)', registers: [metricsRegistry] });

/** Limit checks that could not reach their store; each was answered by RATE_LIMIT_FAIL_CLOSED's policy. */
export const rateLimitBackendErrors = new Counter({
  name: 'rate_limit_backend_errors_total',
  help: 'Rate and attempt limit checks that failed because the limit store (Redis) could not be reached',
  labelNames: ['limiter', 'policy'] as const,
  registers: [metricsRegistry],
});

/**
 * Audit events that never reached the table, by reason: `buffer_full` (the writer fell behind),
 * `write_failed` (the database refused the row itself), `shutdown` (the database was away at exit).
 */
export const auditEventsDropped = new Counter({
  name: 'audit_events_dropped_total',
  help: 'Audit events that could not be stored and were dropped',
  labelNames: ['reason'] as const,
  registers: [metricsRegistry],
});

/** Events waiting in memory for the next batch write; summed over the audit logs of this process. */
export const auditBufferDepth = new Gauge({
  name: 'audit_buffer_depth',
  help: 'Audit events buffered in memory, not yet written',
  registers: [metricsRegistry],
});

// --- Caches (issue 11) ---
/** Reads answered by a cache (`cache`: client, user, token); a Redis-backed hit counts on the reading instance. */
export const cacheHits = new Counter({ name: 'cache_hits_total', help: 'Reads answered by a cache', labelNames: ['cache'] as const, registers: [metricsRegistry] });
/** Reads a cache could not answer, so the database did. */
export const cacheMisses = new Counter({ name: 'cache_misses_total', help: 'Cache reads that went to the database', labelNames: ['cache'] as const, registers: [metricsRegistry] });
