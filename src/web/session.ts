// Browser sessions: koa-session with our database store. The cookie holds only the signed opaque
// id; data lives server-side (see services/sessions.ts). `loadUser` re-reads the user on every page
// request, so a disabled user's session stops working at the next request.
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import session from 'koa-session';
import type { Config } from '../config/env.js';
import { randomToken } from '../domain/crypto.js';
import type { User } from '../db/client.js';
import { requestInfo } from '../http/request-info.js';
import type { Services } from '../services/index.js';
import type { SessionData } from '../services/sessions.js';

export const SESSION_COOKIE = 'authgate_session';

declare module 'koa' {
  interface ExtendableContext {
    session: (SessionData & { regenerate(): Promise<void>; save(): Promise<void> | undefined }) | null;
  }
  interface DefaultState {
    user?: User;
    /** The session key koa-session loaded from the store for this request (see sessionMiddleware). */
    loadedSessionKey?: string;
  }
}

export function sessionMiddleware(app: Koa, config: Config, services: Pick<Services, 'sessions'>): Koa.Middleware {
  app.keys = [config.session.secret];
  const middleware = session(
    {
      key: SESSION_COOKIE,
      maxAge: config.session.idleTimeout * 1000,
      rolling: true,
      httpOnly: true,
      signed: true,
      sameSite: 'lax',
      secure: config.secureCookies,
      genid: () => randomToken(32),
      store: {
        // Which session this request loaded: saving it at the end of the request may only update it.
        // If it was ended meanwhile (signed out elsewhere, user disabled), the save must not bring it back.
        get: async (key: string, _maxAge: number, { ctx }: { ctx: Context }) => {
          const data = await services.sessions.get(key);
          if (data) ctx.state.loadedSessionKey = key;
          return data;
        },
        set: (key: string, data: SessionData, _maxAge: number, { ctx }: { ctx: Context }) =>
          services.sessions.set(key, stripCookieMeta(data), requestInfo(ctx), { existing: ctx.state.loadedSessionKey === key }),
        destroy: (key: string) => services.sessions.destroy(key),
      },
    } as Parameters<typeof session>[0],
    app,
  ) as Koa.Middleware;
  if (!config.secureCookies) return middleware;
  // BASE_URL is https, so browsers reach us over TLS even when a proxy in front talks plain HTTP to us
  // (and TRUST_PROXY is off): the cookie must carry Secure regardless of how the last hop arrived.
  return (ctx, next) => {
    ctx.cookies.secure = true;
    return middleware(ctx, next);
  };
}

// koa-session adds its own cookie bookkeeping (`_expire`, `_maxAge`); the store keeps its own expiry.
function stripCookieMeta(data: SessionData): SessionData {
  const { _expire: _e, _maxAge: _m, ...rest } = data as SessionData & { _expire?: unknown; _maxAge?: unknown };
  return rest;
}

export function loadUser(services: Pick<Services, 'users' | 'sessions'>) {
  return async function loadUserMiddleware(ctx: Context, next: Next): Promise<void> {
    const userId = ctx.session?.userId;
    if (typeof userId === 'string') {
      const user = await services.users.findActive(userId);
      if (user) ctx.state.user = user;
      else {
        services.sessions.endedForInactiveUser(ctx.session!);
        ctx.session = null; // disabled or deleted: end the session now
      }
    }
    await next();
  };
}

/**
 * Pages that need a signed-in user send others to /login and bring them back afterwards: to the same
 * page for a GET, to `formPage` for a form POST whose session ended (the form must be shown again).
 */
export function requireUser(opts: { formPage?: string } = {}) {
  return async function requireUserMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!ctx.state.user) {
      const back = ctx.method === 'GET' ? ctx.originalUrl : (opts.formPage ?? '/');
      ctx.redirect(`/login?redirect=${encodeURIComponent(back)}`);
      return;
    }
    await next();
  };
}
