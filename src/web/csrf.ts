// CSRF protection for cookie-authenticated forms: a random token kept in the server-side session,
// embedded in each form as `_csrf`, and compared in constant time on every state-changing request.
// SameSite=Lax cookies are a second line, not the only one.
import type { Context, Next } from 'koa';
import { constantTimeEqual, randomToken } from '../domain/crypto.js';
import { Forbidden } from '../domain/errors.js';

/**
 * The token for a page's forms, created only if the page actually prints it. A new token is what makes
 * an anonymous visitor's session worth storing, so a page without a form (a 404, an error) must not
 * create one: otherwise every anonymous request would leave a session row behind. Nunjucks prints a
 * value through its toString(), which is when the token is made.
 */
export function lazyCsrfToken(ctx: Context): { toString(): string } {
  return { toString: () => ensureCsrfToken(ctx) };
}

export function ensureCsrfToken(ctx: Context): string {
  const session = ctx.session;
  if (!session) return '';
  if (typeof session.csrf !== 'string') session.csrf = randomToken(32);
  return session.csrf as string;
}

export async function csrfProtect(ctx: Context, next: Next): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'OPTIONS') {
    const expected = ctx.session?.csrf;
    const sent = ctx.state.body?.get('_csrf') ?? ctx.get('x-csrf-token');
    if (typeof expected !== 'string' || !sent || !constantTimeEqual(sent, expected)) {
      throw new Forbidden('This form has expired or did not come from this site. Go back, reload the page and try again.');
    }
  }
  await next();
}
