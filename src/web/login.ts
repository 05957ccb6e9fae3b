// GET/POST /login, GET/POST /logout. Signing in and out (limits, password check, audit) is decided by
// SignInService; this page translates: form in, session and redirect or the form again with why.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadInput, InvalidCredentials, SignInRefused, TemporarilyUnavailable, TooManyAttempts } from '../domain/errors.js';
import { randomToken } from '../domain/crypto.js';
import { requestInfo } from '../http/request-info.js';
import type { ExternalSignInService } from '../services/external-sign-in.js';
import type { SignInService } from '../services/sign-in.js';
import { csrfProtect } from './csrf.js';
import { safeLocalPath } from './local-redirect.js';
import type { Renderer } from './render.js';
import { describeWait } from './wait.js';

export function loginRoutes(router: Router, deps: { services: { signIn: SignInService; externalSignIn: ExternalSignInService }; render: Renderer }): void {
  const { services, render } = deps;
  // With the enabled providers' buttons (sign in with a provider: external-sign-in.ts).
  const page = (ctx: Context, vars: Record<string, unknown>, status?: number) =>
    render(ctx, 'login.njk', { providers: services.externalSignIn.list(), ...vars }, status);

  router.get('/login', async (ctx: Context) => {
    const redirect = safeLocalPath(firstQuery(ctx, 'redirect'));
    if (ctx.state.user) return ctx.redirect(redirect);
    page(ctx, { redirect });
  });

  router.post('/login', csrfProtect, async (ctx: Context) => {
    const body = ctx.state.body!;
    const username = (body.get('username') ?? '').trim();
    const password = body.get('password') ?? '';
    const redirect = safeLocalPath(body.get('redirect'));
    try {
      const user = await services.signIn.signIn(username, password, requestInfo(ctx));
      // A new session id at login (no fixation) and a new CSRF token for the signed-in session.
      ctx.session!.userId = user.id;
      ctx.session!.authTime = Date.now(); // OIDC auth_time
      ctx.session!.csrf = randomToken(32);
      await ctx.session!.regenerate();
      ctx.redirect(redirect);
    } catch (err) {
      if (err instanceof TooManyAttempts) {
        ctx.set('Retry-After', String(err.retryAfter));
        const error = `Too many failed attempts. Try again in ${describeWait(err.retryAfter)}.`;
        return page(ctx, { redirect, username, error }, 429);
      }
      if (err instanceof InvalidCredentials) return page(ctx, { redirect, username, error: err.message }, 401);
      if (err instanceof BadInput) return page(ctx, { redirect, username, error: err.message }, 400);
      if (err instanceof SignInRefused) return page(ctx, { redirect, username, error: err.message }, 403);
      // The user service (or the limit store) is not answering: said on the form, so the person can simply retry.
      if (err instanceof TemporarilyUnavailable) {
        ctx.set('Retry-After', String(err.retryAfter));
        return page(ctx, { redirect, username, error: err.description }, 503);
      }
      throw err;
    }
  });

  router.get('/logout', async (ctx: Context) => {
    if (!ctx.state.user) return ctx.redirect('/login');
    render(ctx, 'logout.njk');
  });

  router.post('/logout', csrfProtect, async (ctx: Context) => {
    const user = ctx.state.user;
    const signedInAt = ctx.session?.authTime;
    ctx.session = null;
    if (user) services.signIn.signOut(user, requestInfo(ctx), signedInAt);
    ctx.redirect('/login');
  });
}

export function firstQuery(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return Array.isArray(value) ? value[0] : value;
}
