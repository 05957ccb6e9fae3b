// Structured JSON-lines logging with pino, behind the small `Logger` interface the rest of the code
// uses (`info(msg, fields)`), so callers never depend on pino's argument order.
// Credentials are removed by path (see REDACTED_KEYS) as a safety net; still, never pass token values,
// secrets or passwords in `fields` on purpose.
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line carries `bindings` (e.g. the request id). */
  child(bindings: Record<string, unknown>): Logger;
  /** Whether lines of `level` are written: a line that is not needs not be built. */
  enabled(level: Exclude<LogLevel, 'silent'>): boolean;
}

// Field names whose values are credentials, at the top level of a line or inside the objects a line
// may carry (`{ body: { password } }`, `{ req: { headers: { authorization } } }`).
const REDACTED_KEYS = [
  'password',
  'new_password',
  'current_password',
  'client_secret',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'code_verifier',
  'device_code',
  'user_code',
  'assertion',
  'client_assertion',
  'authorization',
  'cookie',
  'set-cookie',
  '_csrf',
];
// Named containers rather than wildcards: measured on pino 10, 190 exact paths cost ~2 µs a line,
// while "*.key" costs ~18 µs and "*.*.*.key" ~85 µs, paid on every access line.
const REDACTED_CONTAINERS = ['', 'req', 'req.headers', 'req.body', 'headers', 'body', 'query', 'params', 'details', 'fields'];
// Paths in fast-redact's syntax (pino's redaction): dotted for plain names, bracketed for "set-cookie".
const path = (prefix: string, key: string) => (/^\w+$/.test(key) ? (prefix ? `${prefix}.${key}` : key) : `${prefix}["${key}"]`);
const REDACT_PATHS = REDACTED_KEYS.flatMap((key) => REDACTED_CONTAINERS.map((prefix) => path(prefix, key)));

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const root = pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      // The same line shape as before pino: an ISO time and the level's name, which people can read.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous writes: main.ts calls process.exit right after its last lines, which must not be lost.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return wrap(root);
}

function wrap(p: Pino): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (bindings) => new LazyChild(p, bindings),
    enabled: (level) => p.isLevelEnabled(level),
  };
}

/**
 * A child logger made when it first writes a line. Every request gets one (request-log.ts), and most
 * requests never log at an enabled level: pino's child() serialises its bindings through the
 * redaction at creation, a few microseconds a request on the token endpoints. A line whose level is
 * off makes no child. The lines are the same as from `p.child(bindings)` made at once.
 */
class LazyChild implements Logger {
  private made?: Logger;
  constructor(
    private readonly parent: Pino,
    private readonly bindings: Record<string, unknown>,
  ) {}
  private real(): Logger {
    return (this.made ??= wrap(this.parent.child(this.bindings)));
  }
  private line(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void {
    if (this.parent.isLevelEnabled(level)) this.real()[level](msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.line('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.line('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.line('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.line('error', msg, fields);
  }
  child(bindings: Record<string, unknown>): Logger {
    return this.real().child(bindings);
  }
  enabled(level: Exclude<LogLevel, 'silent'>): boolean {
    return this.parent.isLevelEnabled(level);
  }
}

export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { error: err.message, stack: err.stack } : { error: String(err) };
}
