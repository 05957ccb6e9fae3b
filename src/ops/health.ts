// GET /health: 200 when the database answers, 503 when it does not (load balancers take the
// instance out of rotation). The body is AuthGate's: status, database, timestamp (RFC 3339, UTC).
import type { Context } from 'koa';
import type { Db } from '../db/client.js';

export interface HealthBody {
  status: 'healthy' | 'unhealthy';
  database: 'connected' | 'disconnected';
  timestamp: string;
}

export function healthEndpoint(db: Db) {
  return async function health(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    let up = true;
    try {
      await db.$queryRawUnsafe('SELECT 1');
    } catch {
      // The cause is not told: this answer is public.
      up = false;
    }
    const timestamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const body: HealthBody = up
      ? { status: 'healthy', database: 'connected', timestamp }
      : { status: 'unhealthy', database: 'disconnected', timestamp };
    ctx.status = up ? 200 : 503;
    ctx.body = body;
  };
}
