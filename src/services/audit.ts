// The audit pipeline. Events are buffered in memory and written in batches (one INSERT per
// batch) so auditing never adds a database round trip to a request. Critical security events can be
// written at once with `recordNow`. The buffer is flushed on shutdown so nothing is lost.
import { setTimeout as sleep } from 'node:timers/promises';
import { insertAuditBatch, maxAuditRowsPerStatement } from '../db/audit-batch.js';
import type { Db, Prisma } from '../db/client.js';
import type { Severity } from '../generated/sqlite/enums.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
import { auditBufferDepth, auditEventsDropped } from '../ops/metrics.js';
import type { RequestInfo } from './request-context.js';

export interface AuditEntry {
  eventType: string;
  severity?: Severity;
  success?: boolean;
  actor?: { userId?: string | null; username?: string | null };
  subject?: { type: string; id: string };
  /** The OAuth client_id involved, if any. */
  clientId?: string | null;
  request?: RequestInfo;
  details?: Record<string, unknown>;
}

// Which detail values are credentials. A key names a credential when its last word is a credential
// noun (`password`, `client_secret`, `refresh_token`, `code_verifier`, `_csrf`, `device_code`, ...), not
// when the word merely appears: `tokens_revoked`, `token_type_hint` or `authorization_id` describe
// credentials without being one, and hiding them made the audit log useless for counting.
const CREDENTIAL_NOUNS = new Set([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'verifier',
  'cookie',
  'assertion',
  'csrf',
  'authorization',
  'credential',
  'credentials',
  'apikey',
]);
// `code` alone is too common a word (`error_code`); these are the codes that are credentials.
const CREDENTIAL_CODES = new Set(['code', 'device_code', 'user_code', 'authorization_code', 'auth_code']);
// Plurals name lists of credentials, unless the value is a number: then it is a count.
const CREDENTIAL_PLURALS = new Set(['passwords', 'secrets', 'tokens', 'cookies', 'codes']);
// Credentials that arrive under an innocent key: an HTTP credential (`Bearer ...`, `Basic ...`) or a JWT.
const CREDENTIAL_VALUE = /^\s*(bearer|basic)\s+\S|^eyJ[\w-]*\.[\w-]*\.[\w-]*$/i;
const REDACTED = '[REDACTED]';
// Never fewer than this many events held in memory while the database catches up.
const MIN_BUFFER_CAPACITY = 10_000;

function keyWords(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function isCredential(key: string, value: unknown): boolean {
  const words = keyWords(key);
  const last = words.at(-1) ?? '';
  if (CREDENTIAL_NOUNS.has(last) || CREDENTIAL_CODES.has(words.join('_'))) return true;
  // id_token_hint, login_hint_token: a token passed as a hint is still a token.
  if (last === 'hint' && words.includes('token')) return true;
  if (CREDENTIAL_PLURALS.has(last)) return typeof value !== 'number';
  return typeof value === 'string' && CREDENTIAL_VALUE.test(value);
}

export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 5) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = isCredential(k, v) ? REDACTED : maskSecrets(v, depth + 1);
    return out;
  }
  if (typeof value === 'string' && CREDENTIAL_VALUE.test(value)) return REDACTED;
  return value;
}

type Row = Prisma.AuditEventCreateManyInput;

export interface AuditLogOptions {
  flushIntervalMs: number;
  /** Rows per write (AUDIT_BATCH_SIZE); each write is split further into what one statement can bind. */
  batchSize: number;
  dialect: 'sqlite' | 'postgresql';
  /** Waits before each retry of a failed write; after the last, the rows are written one by one. */
  retryDelaysMs?: readonly number[];
}

const DEFAULT_RETRY_DELAYS_MS = [100, 500];

export class AuditLog {
  private buffer: Row[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly chunkSize: number;
  private readonly capacity: number;
  private readonly retryDelaysMs: readonly number[];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly opts: AuditLogOptions,
  ) {
    this.chunkSize = Math.min(opts.batchSize, maxAuditRowsPerStatement(opts.dialect));
    // Room for several batches: a burst that arrives while one batch is being written is kept, not dropped.
    this.capacity = Math.max(MIN_BUFFER_CAPACITY, 4 * opts.batchSize);
    this.retryDelaysMs = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Buffered: returns at once; the event is written with the next batch. */
  record(entry: AuditEntry): void {
    if (this.buffer.length >= this.capacity) {
      // The database is not keeping up (or is down): keep the newest events and say so loudly.
      const dropped = this.buffer.shift()!;
      auditBufferDepth.dec();
      auditEventsDropped.inc({ reason: 'buffer_full' });
      this.logger.error('audit buffer full; oldest event dropped', { eventType: dropped.eventType, capacity: this.capacity });
    }
    this.buffer.push(toRow(entry));
    auditBufferDepth.inc();
    if (this.buffer.length >= this.opts.batchSize) void this.flush();
  }

  /** Written before returning: for events that must not be lost even if the process dies next. */
  async recordNow(entry: AuditEntry): Promise<void> {
    await this.db.auditEvent.create({ data: toRow(entry) });
  }

  /** Writes everything buffered so far. Concurrent calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered()).catch((err: unknown) => this.logger.error('audit flush failed', errorFields(err)));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const chunk = this.buffer.splice(0, this.chunkSize);
      auditBufferDepth.dec(chunk.length);
      await this.writeChunk(chunk);
    }
  }

  /**
   * A chunk is retried a bounded number of times (the database may be briefly away), then written row
   * by row so that one row the database refuses cannot hold back the others; what still fails is
   * dropped, counted and logged. Never retrying forever keeps the buffer from growing without bound.
   */
  private async writeChunk(chunk: Row[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) await sleep(this.retryDelaysMs[attempt - 1]!);
      try {
        await insertAuditBatch(this.db, this.opts.dialect, chunk);
        return;
      } catch (err) {
        lastError = err;
      }
    }
    this.logger.warn('audit batch write failed after retries; writing its rows one by one', { rows: chunk.length, ...describeDbError(lastError) });
    const dropped: Row[] = [];
    for (const row of chunk) {
      try {
        await insertAuditBatch(this.db, this.opts.dialect, [row]);
      } catch (err) {
        dropped.push(row);
        lastError = err;
      }
    }
    if (dropped.length === 0) return;
    auditEventsDropped.inc({ reason: 'write_failed' }, dropped.length);
    // Which kinds of event were lost, never their details: those may describe credentials.
    const eventTypes: Record<string, number> = {};
    for (const row of dropped) eventTypes[row.eventType] = (eventTypes[row.eventType] ?? 0) + 1;
    this.logger.error('audit events dropped: the database refused them', { dropped: dropped.length, eventTypes, ...describeDbError(lastError) });
  }
}

// The driver's message only: some drivers echo the statement, and with it the parameters, in other fields.
function describeDbError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const code = (err as { code?: unknown }).code;
  return { error: err.message.slice(0, 300), ...(typeof code === 'string' ? { code } : {}) };
}

function toRow(entry: AuditEntry): Row {
  return {
    eventType: entry.eventType,
    severity: entry.severity ?? 'INFO',
    success: entry.success ?? true,
    actorUserId: entry.actor?.userId ?? null,
    actorUsername: entry.actor?.username ?? null,
    subjectType: entry.subject?.type ?? null,
    subjectId: entry.subject?.id ?? null,
    clientId: entry.clientId ?? null,
    ipAddress: entry.request?.ip ?? null,
    userAgent: entry.request?.userAgent?.slice(0, 512) ?? null,
    details: JSON.stringify(maskSecrets(entry.details ?? {})),
    createdAt: new Date(),
  };
}
