// Structural checks over the pages: every link and form in the templates goes to a route that exists
// (with the right method), and the account and admin page routes reach data only through the GraphQL
// API, never Prisma or the services directly.
import type Router from '@koa/router';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/env.js';
import { createLogger } from '../../src/ops/logger.js';
import { webRouter } from '../../src/web/router.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, ext);
    return path.endsWith(ext) ? [path] : [];
  });
}

// Paths served outside the page router (the GraphQL endpoint, health) that a template may link to.
const OUTSIDE_PAGE_ROUTER = new Set(['/graphql', '/health']);

/**
 * A template path with its nunjucks expressions replaced by a placeholder segment, e.g.
 * "/admin/users/{{ u.id }}/edit" → "/admin/users/x/edit". Query strings are dropped.
 */
function concretePath(template: string): string {
  return template
    .replace(/\{\{[\s\S]*?\}\}/g, 'x')
    .replace(/\{%[\s\S]*?%\}/g, '')
    .split(/[?#]/)[0]!;
}

/** The URL argument of a macro call such as m.action('/admin/users/' ~ u.id ~ '/disable', …): literals kept, expressions → "x". */
function macroUrl(args: string): string | null {
  let depth = 0;
  let end = 0;
  for (; end < args.length; end++) {
    const ch = args[end];
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      if (depth === 0) break;
      depth--;
    } else if (ch === ',' && depth === 0) break;
    else if (ch === "'" || ch === '"') end = args.indexOf(ch, end + 1);
  }
  const expr = args.slice(0, end).trim();
  if (!/^['"]\//.test(expr)) return null; // not a literal path (a variable): checked where it is built
  return expr
    .split(/\s*[~+]\s*/)
    .map((part) => (/^(['"])(.*)\1$/.exec(part)?.[2] ?? 'x'))
    .join('')
    .split(/[?#]/)[0]!;
}

interface Target {
  file: string;
  method: 'GET' | 'POST';
  path: string;
  source: string;
}

function templateTargets(): Target[] {
  const targets: Target[] = [];
  for (const file of filesUnder(join(root, 'templates'), '.njk')) {
    const text = readFileSync(file, 'utf8');
    const name = relative(root, file);
    for (const m of text.matchAll(/<a\b[^>]*\bhref="([^"]*)"/g)) targets.push({ file: name, method: 'GET', path: m[1]!, source: m[0] });
    for (const m of text.matchAll(/<(?:link|script|img)\b[^>]*\b(?:href|src)="([^"]*)"/g)) targets.push({ file: name, method: 'GET', path: m[1]!, source: m[0] });
    for (const m of text.matchAll(/<form\b([^>]*)>/g)) {
      const action = /\baction="([^"]*)"/.exec(m[1]!)?.[1];
      const method = (/\bmethod="([^"]*)"/i.exec(m[1]!)?.[1] ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
      if (action) targets.push({ file: name, method, path: action, source: m[0] });
    }
    // One-button forms built by macros (m.action(url, …) posts to url).
    for (const m of text.matchAll(/\bm\.action\(([\s\S]*?)\)\s*\}\}/g)) {
      const url = macroUrl(m[1]!);
      if (url) targets.push({ file: name, method: 'POST', path: url, source: m[0] });
    }
  }
  return targets
    .filter((t) => t.path.startsWith('/') && !t.path.startsWith('//'))
    .map((t) => ({ ...t, path: concretePath(t.path) }))
    .filter((t) => t.path !== '' && !/^x/.test(t.path)); // a path that is wholly a variable is checked where it is built
}

function pageRouter(): Router {
  const config = loadConfig({ DATA_DIR: '/nonexistent', BASE_URL: 'http://127.0.0.1:1', JWT_SECRET: 'x'.repeat(40), SESSION_SECRET: 'y'.repeat(40) });
  // Registering routes runs no handler, so the services are never touched here.
  return webRouter({ services: {} as never, render: (() => undefined) as never, config, logger: createLogger('silent'), gql: {} as never });
}

function routed(router: Router, method: string, path: string): boolean {
  return router.stack.some((layer) => layer.methods.includes(method) && layer.match(path));
}

test('the checks find the links, forms and macro forms in the templates', () => {
  const targets = templateTargets();
  expect(targets.some((t) => t.method === 'POST' && t.path === '/login')).toBe(true);
  expect(targets.some((t) => t.method === 'GET' && t.path === '/static/app.css')).toBe(true);
  expect(macroUrl("'/admin/users/' ~ u.id ~ '/disable', 'Disable', csrfToken")).toBe('/admin/users/x/disable');
  expect(concretePath('/admin/users/{{ user.id }}/edit?x=1')).toBe('/admin/users/x/edit');
});

test('every link and form in the templates goes to an existing route with that method', () => {
  const router = pageRouter();
  const missing = templateTargets().filter((t) => !OUTSIDE_PAGE_ROUTER.has(t.path) && !routed(router, t.method, t.path));
  expect(missing.map((t) => `${t.file}: ${t.method} ${t.path}  (${t.source.slice(0, 80)})`)).toEqual([]);
});

test('the route check would notice a link to nowhere and a form posting to a GET-only route', () => {
  const router = pageRouter();
  expect(routed(router, 'GET', '/no/such/page')).toBe(false);
  expect(routed(router, 'POST', '/static/app.css')).toBe(false);
  expect(routed(router, 'GET', '/login')).toBe(true);
});

// What a page route must not import: the database, Prisma's clients, the services.
const FORBIDDEN_IMPORT = /(^|\/)(services|db)(\/|$)|@prisma\/|\/generated\/(sqlite|postgresql)\//;

function forbiddenImports(source: string): string[] {
  const specifiers = [...source.matchAll(/\b(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g)].map(
    (m) => m[1] ?? m[2] ?? m[3]!,
  );
  return specifiers.filter((s) => FORBIDDEN_IMPORT.test(s));
}

test('account and admin page routes import neither Prisma nor the database nor a service', () => {
  const files = filesUnder(join(root, 'src/web/pages'), '.ts');
  expect(files.length).toBeGreaterThan(0);
  const offenders = files.flatMap((file) => forbiddenImports(readFileSync(file, 'utf8')).map((s) => `${relative(root, file)} imports ${s}`));
  expect(offenders).toEqual([]);
});

test('the import check would notice each kind of forbidden import', () => {
  expect(forbiddenImports("import { UserAdminService } from '../../services/user-admin.js';")).toHaveLength(1);
  expect(forbiddenImports("import type { Db } from '../../db/client.js';")).toHaveLength(1);
  expect(forbiddenImports("import { PrismaClient } from '@prisma/client';")).toHaveLength(1);
  expect(forbiddenImports("const m = await import('../../services/index.js');")).toHaveLength(1);
  expect(forbiddenImports("export { x } from '../../generated/sqlite/client.js';")).toHaveLength(1);
  expect(forbiddenImports("import { AdminUsersDocument } from '../generated/graphql.js';\nimport { act } from './kit.js';")).toEqual([]);
});

/** Inline script a CSP without 'unsafe-inline' would block: <script> with a body, on*= handlers, javascript: URLs. */
function inlineScripts(html: string): string[] {
  const found: string[] = [];
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const dataBlock = /\btype="application\/(ld\+)?json"/i.test(m[1]!);
    if (!dataBlock && (m[2]!.trim() !== '' || !/\bsrc=/.test(m[1]!))) found.push(m[0].slice(0, 80));
  }
  for (const m of html.matchAll(/<[a-z][^>]*\s(on[a-z]+)\s*=/gi)) found.push(m[0].slice(0, 80));
  for (const m of html.matchAll(/\b(?:href|src|action)="\s*javascript:/gi)) found.push(m[0]);
  return found;
}

test('no template has inline script (the CSP allows scripts from our own files only)', () => {
  const offenders = filesUnder(join(root, 'templates'), '.njk').flatMap((file) => inlineScripts(readFileSync(file, 'utf8')).map((s) => `${relative(root, file)}: ${s}`));
  expect(offenders).toEqual([]);
  expect(inlineScripts('<script>alert(1)</script><button onclick="x()">')).toHaveLength(2);
  expect(inlineScripts('<script src="/static/app.js" defer></script><script type="application/json" id="d">{}</script>')).toEqual([]);
});
