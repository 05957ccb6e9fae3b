// GET /health: 200 when the database answers, 503 when it does not (load balancers take the
// instance out of rotation).
import type { Context } from 'koa';
import type { Db } from '../db/client.js';

export function healthEndpoint(db: Db) {
  return async function health(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    try {
      await db.$queryRawUnsafe('SELECT 1');
      ctx.body = { status: 'ok', database: 'ok' };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: 'unreachable' };
    }
  };
}
