// Server-side browser sessions. The cookie carries only an opaque random id; the table is keyed by
// the SHA-256 of that id, so reading the database does not yield a usable session. Sessions end on
// idle timeout (rolling) or at an absolute age, whichever comes first.
import type { Db } from '../db/client.js';
import { sha256Hex } from '../domain/crypto.js';
import type { Metrics } from '../ops/metrics.js';

export interface SessionData {
  userId?: string;
  csrf?: string;
  /** When the session was first created (ms since epoch): the absolute expiry counts from here. */
  startedAt?: number;
  [key: string]: unknown;
}

export class SessionService {
  constructor(
    private readonly db: Db,
    private readonly limits: { maxAge: number; idleTimeout: number },
    private readonly metrics: Metrics,
  ) {}

  async get(id: string): Promise<SessionData | null> {
    const row = await this.db.session.findUnique({ where: { id: sha256Hex(id) } });
    if (!row) return null;
    const now = new Date();
    if (row.expiresAt <= now || row.absoluteExpiresAt <= now) {
      const { count } = await this.db.session.deleteMany({ where: { id: row.id } });
      // A signed-in session seen ending here (housekeeping removes the ones nobody comes back with).
      if (count === 1 && row.userId) {
        this.metrics.sessionEnded({ expired: row.absoluteExpiresAt <= now ? 'timeout' : 'idle_timeout' }, signedInAt(row.data));
      }
      return null;
    }
    return JSON.parse(row.data) as SessionData;
  }

  async set(id: string, data: SessionData, client: { ip?: string; userAgent?: string }): Promise<void> {
    const now = Date.now();
    const startedAt = typeof data.startedAt === 'number' ? data.startedAt : now;
    const absoluteExpiresAt = new Date(startedAt + this.limits.maxAge * 1000);
    const expiresAt = new Date(Math.min(now + this.limits.idleTimeout * 1000, absoluteExpiresAt.getTime()));
    const fields = { userId: data.userId ?? null, data: JSON.stringify({ ...data, startedAt }), expiresAt };
    await this.db.session.upsert({
      where: { id: sha256Hex(id) },
      create: { id: sha256Hex(id), ...fields, absoluteExpiresAt, ipAddress: client.ip ?? null, userAgent: client.userAgent?.slice(0, 512) ?? null },
      update: fields,
    });
  }

  async destroy(id: string): Promise<void> {
    await this.db.session.deleteMany({ where: { id: sha256Hex(id) } });
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
