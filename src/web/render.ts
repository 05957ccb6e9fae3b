import type { Context } from 'koa';
import nunjucks from 'nunjucks';
import { fileURLToPath } from 'node:url';
import { cookieViewer } from '../graphql/context.js';
import { lazyCsrfToken } from './csrf.js';
import { takeFlash } from './flash.js';

// templates/ sits at the repository root, two levels above both src/web and dist/web.
const TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

export function createTemplates(opts: { watch?: boolean } = {}): nunjucks.Environment {
  return new nunjucks.Environment(new nunjucks.FileSystemLoader(TEMPLATES_DIR, { watch: opts.watch ?? false, noCache: false }), {
    autoescape: true,
    throwOnUndefined: false,
  });
}

export type Renderer = (ctx: Context, template: string, vars?: Record<string, unknown>, status?: number) => void;

/**
 * Renders a page with what every page needs: the signed-in user, what the navigation shows, the CSRF
 * token for its forms (made only if printed) and the messages left by the previous request.
 */
export function createRenderer(env: nunjucks.Environment, site: { name: string }): Renderer {
  return function render(ctx, template, vars = {}, status = 200) {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    const user = ctx.state.user ?? null;
    ctx.body = env.render(template, {
      site,
      user,
      // Decides what the navigation offers; each admin page and the API check rights again themselves.
      isAdmin: user ? cookieViewer(user).isAdmin : false,
      path: ctx.path,
      csrfToken: lazyCsrfToken(ctx),
      // An error page leaves waiting messages alone: its session is not saved, so they show on the next page.
      flash: 'flash' in vars ? vars.flash : takeFlash(ctx),
      ...vars,
    });
  };
}
