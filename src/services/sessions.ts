// Server-side browser sessions. The cookie carries only an opaque random id; the store (the database
// table, or Redis with SESSION_STORE=redis: see session-store.ts) is keyed by the SHA-256 of that id,
// so reading it does not yield a usable session. Sessions end on
// idle timeout (rolling) or at an absolute age, whichever comes first.
import type { Db, Prisma } from '../db/client.js';
import { sha256Hex } from '../domain/crypto.js';
import type { Metrics } from '../ops/metrics.js';
import type { AuditEntry, AuditLog } from './audit.js';
import { isLive, type SessionMeta, type SessionStore } from './session-store.js';

type Tx = Prisma.TransactionClient;

export interface SessionData {
  userId?: string;
  csrf?: string;
  /** When the session was first created (ms since epoch): the absolute expiry counts from here. */
  startedAt?: number;
  [key: string]: unknown;
}

export class SessionService {
  constructor(
    readonly store: SessionStore,
    private readonly limits: { maxAge: number; idleTimeout: number },
    private readonly metrics: Metrics,
  ) {}

  async get(id: string): Promise<SessionData | null> {
    const row = await this.store.get(sha256Hex(id));
    if (!row) return null;
    const now = new Date();
    if (!isLive(row, now)) {
      const ended = await this.store.destroy(row.id);
      // A signed-in session seen ending here (housekeeping removes the ones nobody comes back with).
      if (ended && row.userId) {
        this.metrics.sessionEnded({ expired: row.absoluteExpiresAt <= now ? 'timeout' : 'idle_timeout' }, signedInAt(row.data));
      }
      return null;
    }
    return JSON.parse(row.data) as SessionData;
  }

  /**
   * Saves a session. `existing`: the request loaded this session from the store, so the save only
   * updates it; a session ended while the request ran stays ended. Without it the session is created.
   */
  async set(id: string, data: SessionData, client: { ip?: string; userAgent?: string }, opts: { existing?: boolean } = {}): Promise<void> {
    const now = Date.now();
    const startedAt = typeof data.startedAt === 'number' ? data.startedAt : now;
    const absoluteExpiresAt = new Date(startedAt + this.limits.maxAge * 1000);
    const expiresAt = new Date(Math.min(now + this.limits.idleTimeout * 1000, absoluteExpiresAt.getTime()));
    await this.store.set(sha256Hex(id), {
      data: JSON.stringify({ ...data, startedAt }),
      userId: data.userId ?? null,
      expiresAt,
      absoluteExpiresAt,
      ipAddress: client.ip ?? null,
      userAgent: client.userAgent?.slice(0, 512) ?? null,
      existing: opts.existing ?? false,
    });
  }

  async destroy(id: string): Promise<void> {
    await this.store.destroy(sha256Hex(id));
  }

  /** A session by its stored id (the SHA-256 of the cookie's id), if it has not ended. */
  async find(id: string): Promise<SessionMeta | null> {
    const row = await this.store.get(id);
    if (!row || !isLive(row)) return null;
    const { data: _data, ...meta } = row;
    return meta;
  }

  /** The user's sessions that have not ended, most recently used first. */
  listForUser(userId: string): Promise<SessionMeta[]> {
    return this.store.listForUser(userId);
  }

  countActive(): Promise<number> {
    return this.store.countActive();
  }

  /**
   * Runs `change` in a transaction (through `transaction`) and ends the user's sessions (but `except`)
   * with it: in the database store inside that transaction; in Redis right after it commits. `audit`
   * (given the change's result and how many sessions ended) is written inside the transaction in the
   * database store, and right after the sessions ended in Redis, so its count is what was ended.
   */
  async endForUserWith<T>(
    transaction: <R>(fn: (tx: Tx) => Promise<R>) => Promise<R>,
    userId: string,
    opts: { except?: string },
    change: (tx: Tx) => Promise<T>,
    audit: { log: AuditLog; entry: (result: T, sessionsEnded: number) => AuditEntry },
    db: Db,
  ): Promise<{ result: T; sessionsEnded: number }> {
    if (this.store.kind === 'database') {
      return transaction(async (tx) => {
        const result = await change(tx);
        const { count } = await tx.session.deleteMany({ where: { userId, ...(opts.except ? { id: { not: opts.except } } : {}) } });
        await audit.log.recordIn(tx, audit.entry(result, count));
        return { result, sessionsEnded: count };
      });
    }
    const result = await transaction(change);
    const sessionsEnded = await this.store.endForUser(userId, opts);
    await audit.log.recordIn(db, audit.entry(result, sessionsEnded));
    return { result, sessionsEnded };
  }

  /** A signed-in session the server ended because its user can no longer use it (disabled, deleted). */
  endedForInactiveUser(data: SessionData): void {
    this.metrics.sessionEnded({ invalidated: 'user_inactive' }, data.authTime);
  }
}

function signedInAt(data: string): unknown {
  try {
    return (JSON.parse(data) as SessionData).authTime;
  } catch {
    return undefined;
  }
}
