// The HTML face's routes: flow pages for people (errors rendered by errors.ts' pageErrors).
import Router from '@koa/router';
import type { Context } from 'koa';
import { AttemptLimiter } from '../ops/attempt-limiter.js';
import type { Services } from '../services/index.js';
import type { Config } from '../config/env.js';
import { authorizeRoutes } from './authorize.js';
import { deviceRoutes } from './device.js';
import { loginRoutes } from './login.js';
import type { Renderer } from './render.js';

export function webRouter(deps: { services: Services; render: Renderer; config: Config }): Router {
  const router = new Router();
  // 5 wrong tries per 5 minutes per key before a wait; enough for typos, useless for guessing.
  const limiter = new AttemptLimiter({ maxFailures: 5, windowMs: 5 * 60_000 });
  const routeDeps = { ...deps, limiter };
  router.get('/', async (ctx: Context) => deps.render(ctx, 'home.njk'));
  loginRoutes(router, routeDeps);
  deviceRoutes(router, routeDeps);
  authorizeRoutes(router, routeDeps);
  return router;
}
