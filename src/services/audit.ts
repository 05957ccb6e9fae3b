// The audit pipeline. Events are buffered in memory and written in batches (one INSERT per
// batch) so auditing never adds a database round trip to a request. Critical security events can be
// written at once with `recordNow`. The buffer is flushed on shutdown so nothing is lost.
import { randomUUID } from 'node:crypto';
import { insertAuditBatch } from '../db/audit-batch.js';
import type { Db, Prisma } from '../db/client.js';
import type { Severity } from '../generated/sqlite/enums.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
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

// Keys whose values are credentials; their values never reach the audit table.
const SENSITIVE_KEY = /pass(word)?|secret|token|code_verifier|device_code|^code$|authorization|cookie|assertion|csrf/i;
const REDACTED = '[REDACTED]';
const MAX_BUFFER = 10_000;

export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 5) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? REDACTED : maskSecrets(v, depth + 1);
    return out;
  }
  return value;
}

type Row = Prisma.AuditEventCreateManyInput;
/** A row as written: id and time are set when the event is recorded. */
export type WrittenAuditRow = Row & { id: string; createdAt: Date };

export class AuditLog {
  private buffer: WrittenAuditRow[] = [];
  private timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private listeners: ((rows: WrittenAuditRow[]) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly opts: { flushIntervalMs: number; batchSize: number; dialect: 'sqlite' | 'postgresql' },
  ) {
    this.timer = setInterval(() => void this.flush(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Buffered: returns at once; the event is written with the next batch. */
  record(entry: AuditEntry): void {
    if (this.buffer.length >= MAX_BUFFER) {
      // The database is not keeping up (or is down): keep the newest events and say so loudly.
      this.buffer.shift();
      this.logger.error('audit buffer full; oldest event dropped');
    }
    this.buffer.push(toRow(entry));
    if (this.buffer.length >= this.opts.batchSize) void this.flush();
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
    for (const listener of this.listeners) listener(rows);
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
    this.flushing = this.flushing.then(() => this.writeBuffered());
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async writeBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.opts.batchSize);
      try {
        await insertAuditBatch(this.db, this.opts.dialect, batch);
        this.written(batch);
      } catch (err) {
        // Put the batch back so a later flush retries it; stop this round.
        this.buffer.unshift(...batch);
        this.logger.error('audit batch write failed; will retry', errorFields(err));
        return;
      }
    }
  }
}

function toRow(entry: AuditEntry): WrittenAuditRow {
  return {
    id: randomUUID(),
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
