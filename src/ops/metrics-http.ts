// GET /metrics (METRICS_ENABLED) and the HTTP request metrics. The path label is the route template
// the router matched (`/admin/clients/:id`), a fixed name for the few paths served outside the routers,
// or "unmatched": never the raw path, which holds ids and whatever a scanner sends.
import type { Context, Next } from 'koa';
import { constantTimeEqual } from '../domain/crypto.js';
import type { Metrics } from './metrics.js';

export const METRICS_PATH = '/metrics';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// Served by middleware before the routers (health, GraphQL, this endpoint): their paths are their templates.
const FIXED_PATHS = new Set(['/health', '/graphql', METRICS_PATH]);

function routeTemplate(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
  if (typeof matched === 'string') return matched;
  return FIXED_PATHS.has(ctx.path) ? ctx.path : 'unmatched';
}

/** Counts and times every request; outermost, so errors and early answers are counted too. */
export function httpMetrics(metrics: Metrics) {
  return async function httpMetricsMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = process.hrtime.bigint();
    metrics.httpInFlight.inc();
    try {
      await next();
    } finally {
      metrics.httpInFlight.dec();
      const method = METHODS.has(ctx.method) ? ctx.method : 'OTHER';
      const path = routeTemplate(ctx);
      metrics.httpRequests.inc({ method, path, status: String(ctx.status) });
      metrics.httpRequestDuration.observe({ method, path }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/**
 * The scrape endpoint. With a token (METRICS_TOKEN), only `Authorization: Bearer <token>` is answered,
 * compared in constant time; anything else is 401 with a Bearer challenge.
 */
export function metricsEndpoint(metrics: Metrics, opts: { token?: string; collect?: () => Promise<string> }) {
  // One process: its own registry. A cluster's worker: every worker's, added up by the primary.
  const collect = opts.collect ?? (() => metrics.registry.metrics());
  return async function metricsEndpointMiddleware(ctx: Context): Promise<void> {
    ctx.set('Cache-Control', 'no-store');
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.type = 'text/plain';
      ctx.body = 'Method Not Allowed';
      return;
    }
    if (opts.token !== undefined) {
      const match = /^Bearer[ ]+(\S+)\s*$/i.exec(ctx.get('authorization'));
      if (!match || !constantTimeEqual(match[1]!, opts.token)) {
        ctx.status = 401;
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        ctx.type = 'text/plain';
        ctx.body = 'A valid bearer token (METRICS_TOKEN) is required';
        return;
      }
    }
    let text: string;
    try {
      text = await collect();
    } catch (err) {
      ctx.status = 503;
      ctx.type = 'text/plain';
      ctx.body = `Metrics unavailable: ${err instanceof Error ? err.message : String(err)}`;
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = text;
  };
}
