// Repeated failures of one kind (Redis refusing every reconnect, every limit check failing) must not
// become one log line per retry: the first is logged at once, then at most one line per interval
// carrying how many were left out.
import type { Logger } from './logger.js';

export function throttledLog(logger: Logger, level: 'warn' | 'error', intervalMs: number) {
  let lastAt = -Infinity;
  let suppressed = 0;
  return {
    log(msg: string, fields: Record<string, unknown> = {}, now = Date.now()): void {
      if (now - lastAt < intervalMs) {
        suppressed++;
        return;
      }
      logger[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
      lastAt = now;
      suppressed = 0;
    },
    /** The condition ended: the next occurrence is logged at once. */
    reset(): void {
      lastAt = -Infinity;
      suppressed = 0;
    },
  };
}
