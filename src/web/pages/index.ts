// Every account and admin page group, registered on the page router.
import type Router from '@koa/router';
import { accountRoutes } from './account.js';
import { adminAuditRoutes } from './admin-audit.js';
import { adminClientPages } from './admin-clients.js';
import { adminDashboardRoutes } from './admin-dashboard.js';
import { adminTokenRoutes } from './admin-tokens.js';
import { adminUserPages } from './admin-users.js';
import type { PageDeps } from './kit.js';

export function pageRoutes(router: Router, deps: PageDeps): void {
  accountRoutes(router, deps);
  adminDashboardRoutes(router, deps);
  adminUserPages(router, deps);
  adminClientPages(router, deps);
  adminTokenRoutes(router, deps);
  adminAuditRoutes(router, deps);
}
