// The few requests a deployed server answers by the thousand a second (token issuance, introspection,
// tokeninfo) are dispatched by an exact method-and-path lookup instead of walking Koa's whole chain.
// They run the very same middleware, in the same order, as through the chain: what is left out is only
// what cannot apply to them: the middleware that serve other paths (/health, /metrics, the API docs, the
// pages' stack), both routers' matching and the per-request composition of the matched route, and
// Koa's generic response writer (these handlers answer JSON or a short text, written here). Measured
// with the bench's load generator: about a fifth more introspections a second, a third more tokeninfo.
//
// Anything else, including the same path with a query string or another method, goes to Koa as before,
// so 404, 405, HEAD and preflight answers are the routers' own.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Koa from 'koa';
import type { Context, Middleware } from 'koa';
import compose from 'koa-compose';
import type Router from '@koa/router';
import { atEndOfTurn } from '../ops/turns.js';

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * `front` is the middleware every request to these paths passes through before its route (outermost
 * first, exactly as mounted on the app and the face's stack); each path's own middleware (limiter,
 * endpoint) is taken from `router`, which stays the one place routes are declared.
 */
export function directRoutes(app: Koa, opts: { front: Middleware[]; router: Router; paths: readonly string[] }): (fallback: Listener) => Listener {
  const handlers = new Map<string, { route: string; run: (ctx: Context) => Promise<unknown> }>();
  for (const layer of opts.router.stack) {
    if (typeof layer.path !== 'string' || !opts.paths.includes(layer.path)) continue;
    const run = compose<Context>([...opts.front, ...(layer.stack as Middleware[])]);
    // GET routes also answer HEAD in the router; HEAD is left to it (no body to write).
    for (const method of layer.methods) if (method !== 'HEAD') handlers.set(`${method} ${layer.path}`, { route: layer.path as string, run });
  }
  for (const path of opts.paths) {
    if (![...handlers.keys()].some((key) => key.endsWith(` ${path}`))) throw new Error(`directRoutes: no route for ${path}`);
  }
  // Answers leave when the turn's I/O is done, together (see ops/turns.ts). Written one by one in the
  // middle of their requests, nearly every answer woke the load generator's process on its own (0.86
  // sleeps of it an introspection, against 0.05 now), and our process paid for each wake-up in its
  // socket write: on the bench's 2-vCPU machine, 108 µs of CPU an introspection before, 66 now, and
  // about 1.9× the introspections a second (alternated runs, SQLite). An answer waits at most for
  // the other requests of its turn to be handled.
  const respondAtEndOfTurn = atEndOfTurn<Context>(respond, (ctx, err) => ctx.onerror(err as Error));
  return (fallback) => (req, res) => {
    const handler = handlers.get(`${req.method} ${req.url}`);
    if (!handler) return fallback(req, res);
    const ctx = app.createContext(req, res);
    // What @koa/router sets on a match: the access log and the request metrics label by it.
    (ctx as Context & { _matchedRoute?: string })._matchedRoute = handler.route;
    res.statusCode = 404;
    handler.run(ctx).then(
      () => respondAtEndOfTurn(ctx),
      (err: unknown) => ctx.onerror(err as Error),
    );
  };
}

/**
 * Koa's own response writer (koa/lib/application.js `respond`, not exported), for the bodies these
 * routes produce: JSON objects and strings (their errors included); nothing here streams.
 */
function respond(ctx: Context): void {
  const res = ctx.res;
  if (!ctx.writable) {
    res.end();
    return;
  }
  let body: unknown = ctx.body;
  if (EMPTY_STATUSES.has(ctx.status)) {
    ctx.body = null;
    res.end();
    return;
  }
  if (body === null || body === undefined) {
    body = ctx.message || String(ctx.status);
    if (!res.headersSent) {
      ctx.type = 'text';
      ctx.length = Buffer.byteLength(body as string);
    }
    res.end(body);
    return;
  }
  // The body setter has set Content-Type and Content-Length for strings and Buffers.
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body);
    return;
  }
  if (typeof body !== 'object' || typeof (body as { pipe?: unknown }).pipe === 'function' || body instanceof Blob || body instanceof ReadableStream) {
    ctx.onerror(new Error('directRoutes: a direct route answered with a body it cannot write'));
    return;
  }
  const text = JSON.stringify(body);
  if (!res.headersSent) ctx.length = Buffer.byteLength(text);
  res.end(text);
}

// statuses.empty: answers that carry no body.
const EMPTY_STATUSES = new Set([204, 205, 304]);
