// Every account and admin page group, registered on the page router.
import type Router from '@koa/router';
import { adminClientPages } from './admin-clients.js';
import type { PageDeps } from './kit.js';

export function pageRoutes(router: Router, deps: PageDeps): void {
  adminClientPages(router, deps);
}
