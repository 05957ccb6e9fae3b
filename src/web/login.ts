// GET/POST /login, GET/POST /logout.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { randomToken } from '../domain/crypto.js';
import { requestInfo } from '../http/request-info.js';
import { attemptGuard, type AttemptLimiters } from '../ops/attempt-limiter.js';
import type { Services } from '../services/index.js';
import { InvalidCredentials } from '../services/users.js';
import { csrfProtect } from './csrf.js';
import { safeLocalPath } from './local-redirect.js';
import type { Renderer } from './render.js';

export function loginRoutes(router: Router, deps: { services: Services; render: Renderer; limiters: AttemptLimiters }): void {
  const { services, render, limiters } = deps;

  router.get('/login', async (ctx: Context) => {
    const redirect = safeLocalPath(firstQuery(ctx, 'redirect'));
    if (ctx.state.user) return ctx.redirect(redirect);
    render(ctx, 'login.njk', { redirect });
  });

  router.post('/login', csrfProtect, async (ctx: Context) => {
    const body = ctx.state.body!;
    const username = (body.get('username') ?? '').trim();
    const password = body.get('password') ?? '';
    const redirect = safeLocalPath(body.get('redirect'));
    const guard = attemptGuard(limiters, { subject: `login:${ctx.ip}:${username.toLowerCase()}`, address: `login:${ctx.ip}` });
    const wait = await guard.wait();
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return render(ctx, 'login.njk', { redirect, username, error: `Too many failed attempts. Try again in ${wait} seconds.` }, 429);
    }
    if (!username || !password) return render(ctx, 'login.njk', { redirect, username, error: 'Enter your username and password.' }, 400);
    try {
      const user = await services.users.authenticate(username, password, requestInfo(ctx));
      await guard.succeeded();
      // A new session id at login (no fixation) and a new CSRF token for the signed-in session.
      ctx.session!.userId = user.id;
      ctx.session!.authTime = Date.now(); // OIDC auth_time
      ctx.session!.csrf = randomToken(32);
      await ctx.session!.regenerate();
      ctx.redirect(redirect);
    } catch (err) {
      if (!(err instanceof InvalidCredentials)) throw err;
      await guard.failed();
      render(ctx, 'login.njk', { redirect, username, error: err.message }, 401);
    }
  });

  router.get('/logout', async (ctx: Context) => {
    if (!ctx.state.user) return ctx.redirect('/login');
    render(ctx, 'logout.njk');
  });

  router.post('/logout', csrfProtect, async (ctx: Context) => {
    const user = ctx.state.user;
    ctx.session = null;
    if (user) services.audit.record({ eventType: 'LOGOUT', actor: { userId: user.id, username: user.username }, request: requestInfo(ctx) });
    ctx.redirect('/login');
  });
}

export function firstQuery(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return Array.isArray(value) ? value[0] : value;
}
