// A real pino logger whose lines the test can read, instead of stdout.
import { createLogger, type Logger, type LogLevel } from '../../src/ops/logger.js';

export interface CapturedLog {
  logger: Logger;
  /** Everything written so far, as raw text (for "this secret appears nowhere" checks). */
  text(): string;
  /** The lines written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
}

export function captureLog(level: LogLevel = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const logger = createLogger(level, { write: (chunk: string) => void chunks.push(chunk) });
  return {
    logger,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
