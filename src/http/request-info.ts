import type { Context } from 'koa';
import type { RequestInfo } from '../services/request-context.js';

/** The client's address and agent for auditing; `ctx.ip` honours X-Forwarded-For only when TRUST_PROXY is on. */
export function requestInfo(ctx: Context): RequestInfo {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined };
}
