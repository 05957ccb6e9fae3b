// Every account and admin page group, registered on the page router.
import type Router from '@koa/router';
import { adminAuditRoutes } from './admin-audit.js';
import { adminDashboardRoutes } from './admin-dashboard.js';
import { adminTokenRoutes } from './admin-tokens.js';
import type { PageDeps } from './kit.js';

export function pageRoutes(router: Router, deps: PageDeps): void {
  adminDashboardRoutes(router, deps);
  adminTokenRoutes(router, deps);
  adminAuditRoutes(router, deps);
}
