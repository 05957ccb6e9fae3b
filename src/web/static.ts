// The few files the pages load: our stylesheet and script, and the chart library from node_modules.
// A fixed list read once at startup, rather than a static-directory middleware: nothing outside the
// list can ever be served, whatever the path, and each answer carries an ETag for cheap revalidation.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC_DIR = fileURLToPath(new URL('../../templates/static', import.meta.url));
const require = createRequire(import.meta.url);
// chart.js's package exports name only its module entries; the UMD build sits beside them in dist/.
const CHART_DIR = dirname(require.resolve('chart.js'));

const FILES: Record<string, { file: string; type: string }> = {
  '/static/app.css': { file: join(STATIC_DIR, 'app.css'), type: 'text/css; charset=utf-8' },
  '/static/app.js': { file: join(STATIC_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/static/account.css': { file: join(STATIC_DIR, 'account.css'), type: 'text/css; charset=utf-8' },
  // Named by the layout, so browsers do not ask for /favicon.ico (a 404 there is a console error).
  '/static/favicon.svg': { file: join(STATIC_DIR, 'favicon.svg'), type: 'image/svg+xml' },
  '/static/dashboard.js': { file: join(STATIC_DIR, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/static/audit-live.js': { file: join(STATIC_DIR, 'audit-live.js'), type: 'text/javascript; charset=utf-8' },
  '/static/vendor/chart.umd.min.js': { file: join(CHART_DIR, 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

export function staticRoutes(router: Router): void {
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(file);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    router.get(path, (ctx: Context) => {
      ctx.set('ETag', etag);
      ctx.set('Cache-Control', 'public, max-age=3600');
      if (ctx.get('if-none-match') === etag) {
        ctx.status = 304;
        return;
      }
      ctx.type = type;
      ctx.body = body;
    });
  }
}
