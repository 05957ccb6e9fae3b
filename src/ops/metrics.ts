// Process metrics, kept in one prom-client registry that a /metrics endpoint can expose. prom-client
// rather than hand-written counters: it already speaks the Prometheus text format and its types.
import { Counter, Gauge, Registry } from 'prom-client';

export const metricsRegistry = new Registry();

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
