// The HTML face's routes: flow pages for people (sign-in, device, consent), which use the services like
// the protocol endpoints do, and the account and admin pages, which use the GraphQL API (pages/).
// Errors are rendered by errors.ts' pageErrors.
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Services } from '../services/index.js';
import type { Config } from '../config/env.js';
import type { Logger } from '../ops/logger.js';
import type { LimitName, RequestLimits } from '../http/rate-limit.js';
import { adminGate } from './admin-gate.js';
import { auditExportRoutes } from './audit-export.js';
import { authorizeRoutes } from './authorize.js';
import { deviceRoutes } from './device.js';
import { externalSignInRoutes } from './external-sign-in.js';
import { loginRoutes } from './login.js';
import type { PageGraphQL } from '../graphql/in-process.js';
import { pageRoutes } from './pages/index.js';
import { staticRoutes } from './static.js';
import type { Renderer } from './render.js';

export function webRouter(deps: { services: Services; render: Renderer; config: Config; logger: Logger; gql: PageGraphQL; limits?: RequestLimits }): Router {
  const router = new Router();
  router.get('/', async (ctx: Context) => deps.render(ctx, 'home.njk'));
  staticRoutes(router);
  // AuthGate's LOGIN_RATE_LIMIT / DEVICE_VERIFY_RATE_LIMIT: form posts per address per minute (wrong
  // passwords and user codes are limited per account and address besides). Registered before the
  // pages' own handlers, which run only when the limit lets the request through; a refusal is a page.
  const { loginPerMinute, deviceVerifyPerMinute } = deps.config.rateLimits;
  const limit = (name: LimitName, max: number) =>
    deps.limits!.limit(name, {
      max,
      windowSeconds: 60,
      refuse: (ctx, retryAfter) =>
        deps.render(
          ctx,
          'error.njk',
          {
            title: 'Too many requests',
            message: `Too many requests from your network address. Please wait ${retryAfter} second${retryAfter === 1 ? '' : 's'} and try again.`,
            flash: null,
          },
          429,
        ),
    });
  if (deps.limits && loginPerMinute > 0) router.post('/login', limit('login', loginPerMinute));
  if (deps.limits && deviceVerifyPerMinute > 0) router.post('/device/verify', limit('device_verify', deviceVerifyPerMinute));
  loginRoutes(router, deps);
  deviceRoutes(router, deps);
  authorizeRoutes(router, deps);
  // After /oauth/authorize, which its /oauth/:provider would otherwise shadow.
  externalSignInRoutes(router, deps);
  auditExportRoutes(router, {
    auditQuery: deps.services.auditQuery,
    requireAdmin: adminGate({ tokens: deps.services.tokens, render: deps.render }),
    logger: deps.logger,
  });
  // Account and admin pages: a face of the GraphQL API (see pages/kit.ts).
  pageRoutes(router, { gql: deps.gql, render: deps.render });
  return router;
}
