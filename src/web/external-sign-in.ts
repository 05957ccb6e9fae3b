// Sign in with a provider: GET /oauth/:provider sends the person to the provider; they come back to
// /oauth/:provider/callback (or AuthGate's /auth/callback/:provider). The attempt (state, nonce, PKCE
// verifier, where to return) lives in the server-side session and is removed before the answer is
// checked, so a callback works once. Success ends like the password login: a new session id, auth_time,
// a new CSRF token, and back to the local path saved at the start. Deciding is ExternalSignInService's.
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { randomToken } from '../domain/crypto.js';
import { requestInfo } from '../http/request-info.js';
import { ExternalSignInRefused, type ExternalSignInService, type PendingExternalSignIn } from '../services/external-sign-in.js';
import { safeLocalPath } from './local-redirect.js';
import { firstQuery } from './login.js';
import type { Renderer } from './render.js';

const PENDING_KEY = 'externalSignIn';

export function externalSignInRoutes(router: Router, deps: { services: { externalSignIn: ExternalSignInService }; render: Renderer }): void {
  const { services, render } = deps;
  // Not a configured provider: left to the routes after this one (and to the 404 page).
  const known = (ctx: Context) => {
    const name = String(ctx.params.provider ?? '');
    return services.externalSignIn.has(name) ? name : undefined;
  };

  router.get('/oauth/:provider', async (ctx: Context, next: Next) => {
    const name = known(ctx);
    if (!name) return next();
    const redirect = safeLocalPath(firstQuery(ctx, 'redirect'));
    try {
      const { url, pending } = await services.externalSignIn.begin(name, redirect, requestInfo(ctx));
      // One attempt at a time per browser: a new start replaces an older one that was never finished.
      ctx.session![PENDING_KEY] = pending;
      ctx.redirect(url);
    } catch (err) {
      if (err instanceof ExternalSignInRefused) return render(ctx, 'external-sign-in-failed.njk', { message: err.message, redirect }, err.status);
      throw err;
    }
  });

  const callback = async (ctx: Context, next: Next) => {
    const name = known(ctx);
    if (!name) return next();
    const pending = ctx.session?.[PENDING_KEY] as PendingExternalSignIn | undefined;
    if (pending && ctx.session) {
      // Gone before anything is checked, and stored now: a second use of this answer finds nothing.
      delete ctx.session[PENDING_KEY];
      await ctx.session.save();
    }
    const params = { code: firstQuery(ctx, 'code'), state: firstQuery(ctx, 'state'), error: firstQuery(ctx, 'error') };
    try {
      const result = await services.externalSignIn.complete(name, params, pending, ctx.state.user?.id, requestInfo(ctx));
      ctx.session!.userId = result.user.id;
      ctx.session!.authTime = Date.now(); // OIDC auth_time
      ctx.session!.csrf = randomToken(32);
      await ctx.session!.regenerate();
      ctx.redirect(safeLocalPath(result.redirect));
    } catch (err) {
      if (err instanceof ExternalSignInRefused) return render(ctx, 'external-sign-in-failed.njk', { message: err.message, redirect: pending?.redirect }, err.status);
      throw err;
    }
  };
  router.get('/oauth/:provider/callback', callback);
  router.get('/auth/callback/:provider', callback);
}
