// CORS (Fetch standard, "CORS protocol") for the protocol endpoints, so browser apps on allowlisted
// origins can call /oauth/* and read /.well-known/*. Written here rather than taken from a package:
// the design's dependency list has no CORS package, and the rules needed are a dozen lines.
// No credentials mode: these endpoints use no cookies, so Access-Control-Allow-Credentials is never sent
// and a reflected origin cannot be used to ride a user's session.
import type { Context, Next } from 'koa';

/** What a preflight answers: CORS_ALLOWED_METHODS, CORS_ALLOWED_HEADERS, CORS_MAX_AGE (AuthGate's defaults). */
export interface CorsOptions {
  methods: readonly string[];
  headers: readonly string[];
  /** seconds */
  maxAge: number;
}

const AUTHGATE_DEFAULTS: CorsOptions = { methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'], headers: ['Origin', 'Content-Type', 'Authorization'], maxAge: 12 * 3600 };

/** `allowedOrigins` are exact, normalised origins (config.corsAllowedOrigins); empty switches CORS off. */
export function cors(allowedOrigins: readonly string[], options: CorsOptions = AUTHGATE_DEFAULTS) {
  const allowed = new Set(allowedOrigins);
  const ALLOW_METHODS = options.methods.join(', ');
  const ALLOW_HEADERS = options.headers.join(', ');
  const MAX_AGE_SECONDS = String(options.maxAge);
  return async function corsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (allowed.size === 0) return next();
    // Every answer depends on Origin once CORS is on, including the ones without CORS headers: a shared
    // cache (discovery is cacheable) must not serve one origin's answer to another (Fetch standard,
    // "CORS protocol and HTTP caches").
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    const isAllowed = origin !== '' && allowed.has(origin);
    if (ctx.method === 'OPTIONS' && ctx.get('access-control-request-method')) {
      // A preflight is answered here, never routed. A disallowed origin gets the same 204 without CORS
      // headers; the browser then refuses the real request on its own.
      if (isAllowed) {
        ctx.set('Access-Control-Allow-Origin', origin);
        ctx.set('Access-Control-Allow-Methods', ALLOW_METHODS);
        ctx.set('Access-Control-Allow-Headers', ALLOW_HEADERS);
        ctx.set('Access-Control-Max-Age', MAX_AGE_SECONDS);
      }
      ctx.status = 204;
      return;
    }
    if (isAllowed) {
      // Set before the handler runs so error answers carry them too: a browser app must be able to read
      // an RFC 6749 §5.2 error body, and the WWW-Authenticate challenge of a 401.
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
    }
    await next();
  };
}
