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

/** Requests refused by a per-endpoint request limit (`limit`: login, token, device_code, ... — never a key or address). */
export const rateLimitHits = new Counter({
  name: 'rate_limit_hits_total',
  help: 'Requests refused (429) by a per-endpoint request limit',
  labelNames: ['limit'] as const,
  registers: [metricsRegistry],
});
