// GET /api/openapi.json (the protocol API's OpenAPI 3.1 document) and Swagger UI at /api/swagger/,
// where AuthGate serves its Swagger docs. Swagger UI comes from the swagger-ui-dist package, served
// from this server (never a CDN). Its stock index.html starts the UI with an inline script, which the
// pages' Content-Security-Policy (`script-src 'self'`) forbids, so the page and its small starter
// script are our own; the bundle and stylesheet are the package's files, read on first use.
import Router from '@koa/router';
import type { Context } from 'koa';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Config } from '../config/env.js';
import { openApiDocument } from './openapi.js';

export const OPENAPI_PATH = '/api/openapi.json';
export const SWAGGER_PATH = '/api/swagger/';

const require = createRequire(import.meta.url);
const SWAGGER_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

const PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AuthGate API — Swagger UI</title>
<link rel="stylesheet" href="swagger-ui.css">
<link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="swagger-initializer.js"></script>
</body>
</html>
`;

// validatorUrl: null keeps the UI from loading a badge from swagger.io (an outside request the CSP refuses).
const INITIALIZER = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${JSON.stringify(OPENAPI_PATH)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

interface Asset {
  body: () => Buffer;
  type: string;
}

function fromPackage(name: string, type: string): Asset {
  let cached: Buffer | undefined;
  return { body: () => (cached ??= readFileSync(join(SWAGGER_DIR, name))), type };
}

const ASSETS: Record<string, Asset> = {
  '': { body: () => Buffer.from(PAGE), type: 'text/html; charset=utf-8' },
  'index.html': { body: () => Buffer.from(PAGE), type: 'text/html; charset=utf-8' },
  'swagger-initializer.js': { body: () => Buffer.from(INITIALIZER), type: 'text/javascript; charset=utf-8' },
  'swagger-ui-bundle.js': fromPackage('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'),
  'swagger-ui.css': fromPackage('swagger-ui.css', 'text/css; charset=utf-8'),
  'favicon-32x32.png': fromPackage('favicon-32x32.png', 'image/png'),
};

export function apiDocsRouter(config: Pick<Config, 'baseUrl' | 'dynamicRegistration'>): Router {
  // strict: /api/swagger (redirected) and /api/swagger/ (the page) are different paths.
  const router = new Router({ strict: true });
  const document = JSON.stringify(openApiDocument(config));
  router.get(OPENAPI_PATH, (ctx: Context) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.type = 'application/json';
    ctx.body = document;
  });
  router.get('/api/swagger', (ctx: Context) => {
    ctx.status = 301;
    ctx.redirect(SWAGGER_PATH);
  });
  for (const [name, asset] of Object.entries(ASSETS)) {
    let etag: string | undefined;
    router.get(SWAGGER_PATH + name, (ctx: Context) => {
      const body = asset.body();
      etag ??= `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      ctx.set('ETag', etag);
      ctx.set('Cache-Control', 'no-cache');
      if (ctx.get('if-none-match') === etag) {
        ctx.status = 304;
        return;
      }
      ctx.type = asset.type;
      ctx.body = body;
    });
  }
  return router;
}
