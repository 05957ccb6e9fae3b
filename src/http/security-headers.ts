import type { Context, Next } from 'koa';

// Pages render only our own templates, styles and scripts; nothing may frame them. Forms post only
// to this server, except where a page's form ends in a redirect to a client (the consent page).
export function contentSecurityPolicy(extraFormTargets: string[] = []): string {
  return [
    "default-src 'none'",
    // Scripts only from our own files (never inline); the live audit view reads /graphql as a stream.
    "script-src 'self'",
    "connect-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    ["form-action 'self'", ...extraFormTargets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}
const CSP = contentSecurityPolicy();

export function securityHeaders(opts: { hsts: boolean }) {
  return async function securityHeadersMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', CSP);
    ctx.set('Cross-Origin-Opener-Policy', 'same-origin');
    if (opts.hsts) ctx.set('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    await next();
  };
}
