// The audit pipeline. Events are buffered in memory and written in batches (one INSERT per chunk that
// one statement can bind) so auditing never adds a database round trip to a request. Critical security
// events can be written at once with `recordNow`. A failing write is retried a bounded number of times;
// a row the database refuses is isolated and dropped, never retried forever; every loss is counted in
// `audit_events_dropped_total` and logged. The buffer is flushed on shutdown.
import { setTimeout as sleep } from 'node:timers/promises';
import { insertAuditBatch, maxAuditRowsPerStatement } from '../db/audit-batch.js';
import type { Db, Prisma } from '../db/client.js';
import { timeOrderedId } from '../domain/ids.js';
import type { Severity } from '../generated/sqlite/enums.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
import { Metrics } from '../ops/metrics.js';
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
]);
// Whole keys whose last word is too common to mask everywhere (`error_code`, `key_id`).
const CREDENTIAL_KEYS = new Set(['code', 'device_code', 'user_code', 'authorization_code', 'auth_code', 'api_key', 'apikey', 'private_key']);
// Plurals name lists of credentials, unless the value is a number: then it is a count.
const CREDENTIAL_PLURALS = new Set(['passwords', 'secrets', 'tokens', 'cookies', 'codes']);
// Credentials that arrive under an innocent key: a whole HTTP credential ("Bearer <token68>", RFC 9110
// §11.2; "Basic ..." likewise) or a JWT. A sentence that merely starts with the word is left alone.
const CREDENTIAL_VALUE = /^\s*(bearer|basic)\s+[\w.~+/-]+=*\s*$|^eyJ[\w-]*\.[\w-]*\.[\w-]*$/i;
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

/** What a key's name alone says: it names a credential, a list of them (unless a count), or nothing. */
type KeyKind = 'credential' | 'plural' | 'other';

function classifyKey(key: string): KeyKind {
  const words = keyWords(key);
  const last = words.at(-1) ?? '';
  if (CREDENTIAL_NOUNS.has(last) || CREDENTIAL_KEYS.has(words.join('_'))) return 'credential';
  // id_token_hint, login_hint_token: a token passed as a hint is still a token.
  if (last === 'hint' && words.at(-2) === 'token') return 'credential';
  return CREDENTIAL_PLURALS.has(last) ? 'plural' : 'other';
}

// Every event of a kind has the same keys, so each name is classified once (splitting it into words
// was a twentieth of a client_credentials token's main-thread time). Bounded: details may carry names
// taken from a request (registration metadata); past the bound a new name is classified every time.
const KEY_KINDS_MAX = 2000;
const keyKinds = new Map<string, KeyKind>();

function keyKind(key: string): KeyKind {
  let kind = keyKinds.get(key);
  if (kind === undefined) {
    kind = classifyKey(key);
    if (keyKinds.size < KEY_KINDS_MAX) keyKinds.set(key, kind);
  }
  return kind;
}

function isCredential(key: string, value: unknown): boolean {
  // A yes/no or an absent value reveals no secret, whatever its key says (`enableClientCredentials`).
  if (typeof value === 'boolean' || value === null) return false;
  const kind = keyKind(key);
  if (kind === 'credential') return true;
  if (kind === 'plural') return typeof value !== 'number';
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
/** A row as written: id and time are set when the event is recorded. */
export type WrittenAuditRow = Row & { id: string; createdAt: Date };

export interface AuditLogOptions {
  flushIntervalMs: number;
  /** Rows per write (AUDIT_BATCH_SIZE); each write is split further into what one statement can bind. */
  batchSize: number;
  dialect: 'sqlite' | 'postgresql';
  /** Events held while the database is slow (AUDIT_LOG_BUFFER_SIZE); beyond it the oldest are dropped. */
  bufferSize?: number;
  /** Waits before each retry of a failed write; after the last, the rows are written in halves down to single rows. */
  retryDelaysMs?: readonly number[];
  /** The instance's metrics (audit_buffer_depth, audit_events_dropped_total); a private registry when not given. */
  metrics?: Metrics;
  /**
   * ENABLE_AUDIT_LOGGING (default true). false drops what `record` is given (the per-request stream:
   * sign-ins, token issuance and refresh, a client's own revocations, failures, lockouts, rate-limit
   * hits) without buffering it. `recordIn` and `recordNow` still write: they record changes that matter
   * for security (administrative and account changes, mass and family revocations, code and refresh
   * replays, client registrations), are few, and an operator who turns the stream off for volume or
   * privacy must still be able to answer "who disabled this user, who revoked all of this client's tokens".
   */
  enabled?: boolean;
}

const DEFAULT_RETRY_DELAYS_MS = [100, 500];

export class AuditLog {
  private buffer: WrittenAuditRow[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly chunkSize: number;
  private readonly capacity: number;
  private readonly retryDelaysMs: readonly number[];
  private droppedWhileFull = 0;
  private listeners: ((rows: WrittenAuditRow[]) => void)[] = [];
  private readonly depth;
  private readonly dropped;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly opts: AuditLogOptions,
  ) {
    this.chunkSize = Math.min(opts.batchSize, maxAuditRowsPerStatement(opts.dialect));
    // Room for several batches: a burst that arrives while one batch is being written is kept, not dropped.
    this.capacity = opts.bufferSize ?? Math.max(MIN_BUFFER_CAPACITY, 4 * opts.batchSize);
    this.retryDelaysMs = opts.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const metrics = opts.metrics ?? new Metrics();
    this.depth = metrics.auditBufferDepth;
    this.dropped = metrics.auditEventsDropped;
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Buffered: returns at once; the event is written with the next batch. Nothing at all when ENABLE_AUDIT_LOGGING=false. */
  record(entry: AuditEntry): void {
    if (this.opts.enabled === false) return;
    if (this.buffer.length >= this.capacity) {
      // The database is not keeping up (or is down): keep the newest events and say so loudly.
      const dropped = this.buffer.shift()!;
      this.depth.dec();
      this.dropped.inc({ reason: 'buffer_full' });
      // One line per thousand drops: an outage must not also flood the log.
      if (this.droppedWhileFull++ % 1000 === 0) {
        this.logger.error('audit buffer full; oldest events dropped', { eventType: dropped.eventType, capacity: this.capacity, droppedSoFar: this.droppedWhileFull });
      }
    }
    this.buffer.push(toRow(entry));
    this.depth.inc();
    // Exactly at the threshold: one flush per batch, not one per event past it (the flush drains everything).
    if (this.buffer.length === this.opts.batchSize) void this.flush();
  }

  /** Written before returning: for events that must not be lost even if the process dies next. */
  async recordNow(entry: AuditEntry): Promise<void> {
    const row = toRow(entry);
    await this.db.auditEvent.create({ data: row });
    this.written([row]);
  }

  /** Called with every batch once it is stored (the live audit stream); a listener must not throw. */
  onWritten(listener: (rows: WrittenAuditRow[]) => void): void {
    this.listeners.push(listener);
  }

  private written(rows: WrittenAuditRow[]): void {
    for (const listener of this.listeners) {
      // A listener's failure must never look like a failed write (which would be retried and duplicated).
      try {
        listener(rows);
      } catch (err) {
        this.logger.error('audit listener failed', errorFields(err));
      }
    }
  }

  /**
   * The row `record` would buffer, for a caller that writes it itself with what it describes (the
   * group commit of issued tokens, db/issuance-writer.ts), then calls `announce`; null when
   * ENABLE_AUDIT_LOGGING=false.
   */
  streamRow(entry: AuditEntry): WrittenAuditRow | null {
    return this.opts.enabled === false ? null : toRow(entry);
  }

  private announcing: WrittenAuditRow[] = [];

  /**
   * Tells the live stream about rows written by a caller (see streamRow). Rows announced in the same
   * turn of the event loop (one group commit's requests) go out as one batch.
   */
  announce(rows: WrittenAuditRow[]): void {
    if (rows.length === 0 || this.listeners.length === 0) return;
    if (this.announcing.length === 0) {
      setImmediate(() => {
        const batch = this.announcing;
        this.announcing = [];
        this.written(batch);
      });
    }
    this.announcing.push(...rows);
  }

  /**
   * An event of the per-request stream (see `enabled`) written in the caller's transaction, with the
   * change it describes (token issuance): durable exactly when that change is.
   */
  async recordStreamIn(tx: Pick<Db, 'auditEvent'>, entry: AuditEntry): Promise<void> {
    if (this.opts.enabled === false) return;
    await this.recordIn(tx, entry);
  }

  /**
   * Written with the change it describes, in the caller's transaction: an administrative change and
   * its audit event are committed together or not at all.
   */
  async recordIn(tx: Pick<Db, 'auditEvent'>, entry: AuditEntry): Promise<void> {
    const row = toRow(entry);
    await tx.auditEvent.create({ data: row });
    // Announced before the caller commits (nothing here knows when it does); the change is already
    // decided by then, and the live stream is a view, not the record.
    this.written([row]);
  }

  /** Writes everything buffered so far. Concurrent calls are serialised. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writeBuffered()).catch((err: unknown) => this.logger.error('audit flush failed', errorFields(err)));
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    if (this.buffer.length > 0) {
      // Only when the database stayed unreachable to the end: these events are lost, and said so.
      this.dropped.inc({ reason: 'shutdown' }, this.buffer.length);
      this.depth.dec(this.buffer.length);
      this.logger.error('audit events dropped at shutdown: the database does not answer', { dropped: this.buffer.length });
      this.buffer = [];
    }
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const chunk = this.buffer.splice(0, this.chunkSize);
      this.depth.dec(chunk.length);
      if (!(await this.writeChunk(chunk))) {
        // The database is unreachable: keep the rows (the buffer's capacity bounds them) for the next round.
        this.buffer.unshift(...chunk);
        this.depth.inc(chunk.length);
        return;
      }
    }
  }

  /**
   * A chunk is retried a bounded number of times with backoff. If it still fails while the database
   * answers, the data is at fault: the chunk is written in halves, down to single rows, so one row the
   * database refuses cannot hold back the others (halving finds a bad row in about 2·log2(n)
   * statements, where writing 5,000 rows one by one would stall the writer for seconds); rows refused
   * on their own are dropped, counted and logged. Returns false, leaving the rows to the caller, when
   * the database does not answer at all.
   */
  private async writeChunk(chunk: WrittenAuditRow[]): Promise<boolean> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) await sleep(this.retryDelaysMs[attempt - 1]!);
      try {
        await insertAuditBatch(this.db, this.opts.dialect, chunk);
        this.written(chunk);
        return true;
      } catch (err) {
        lastError = err;
      }
    }
    if (!(await this.databaseAnswers())) {
      this.logger.error('audit batch write failed and the database does not answer; will retry', { rows: chunk.length, ...describeDbError(lastError) });
      return false;
    }
    this.logger.warn('audit batch refused after retries; writing it in parts to isolate the refused rows', { rows: chunk.length, ...describeDbError(lastError) });
    const dropped: WrittenAuditRow[] = [];
    const errors: unknown[] = [];
    await this.writeInParts(chunk, dropped, errors);
    if (dropped.length === 0) return true;
    this.dropped.inc({ reason: 'write_failed' }, dropped.length);
    // Which kinds of event were lost, never their details: those may describe credentials.
    const eventTypes: Record<string, number> = {};
    for (const row of dropped) eventTypes[row.eventType] = (eventTypes[row.eventType] ?? 0) + 1;
    this.logger.error('audit events dropped: the database refused them', { dropped: dropped.length, eventTypes, ...describeDbError(errors[0]) });
    return true;
  }

  private async writeInParts(rows: WrittenAuditRow[], dropped: WrittenAuditRow[], errors: unknown[]): Promise<void> {
    const middle = Math.ceil(rows.length / 2);
    for (const part of [rows.slice(0, middle), rows.slice(middle)]) {
      if (part.length === 0) continue;
      try {
        await insertAuditBatch(this.db, this.opts.dialect, part);
        this.written(part);
      } catch (err) {
        if (part.length > 1) await this.writeInParts(part, dropped, errors);
        else {
          dropped.push(part[0]!);
          errors.push(err);
        }
      }
    }
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.db.$queryRawUnsafe('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}

// The driver's message only: some drivers echo the statement, and with it the parameters, in other fields.
function describeDbError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const code = (err as { code?: unknown }).code;
  return { error: err.message.slice(0, 300), ...(typeof code === 'string' ? { code } : {}) };
}

function toRow(entry: AuditEntry): WrittenAuditRow {
  return {
    id: timeOrderedId(),
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
