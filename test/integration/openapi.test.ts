// The protocol API's OpenAPI 3.1 document (/api/openapi.json): valid against the OpenAPI 3.1 schema,
// and in step with the protocol router (every route documented, nothing documented that is not
// routed). Swagger UI at /api/swagger/: served from the bundled package, under the pages' CSP, and
// rendering the operations in a real Chromium with no console errors.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Browser } from 'playwright-core';
import { RequestLimits } from '../../src/http/rate-limit.js';
import { LimitStore } from '../../src/ops/attempt-limiter.js';
import { createLogger } from '../../src/ops/logger.js';
import { openApiDocument } from '../../src/oauth/openapi.js';
import { oauthRouter } from '../../src/oauth/router.js';
import { launchChromium, watchedContext } from '../helpers/chromium.js';
import { createClient } from '../helpers/clients.js';
import { json, postForm } from '../helpers/oauth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head', 'trace'];

/** "METHOD /path" for every route the protocol router serves (HEAD is implied by GET). */
function routed(server: TestServer): string[] {
  const router = oauthRouter({
    config: server.config,
    services: server.authgate.services,
    signer: server.authgate.signer,
    limits: new RequestLimits({
      keyPrefix: 'openapi-test:',
      store: new LimitStore({ keyPrefix: 'openapi-test:', failClosed: false, logger: createLogger('silent') }),
      audit: server.authgate.services.audit,
      metrics: server.authgate.metrics,
    }),
  });
  const out = new Set<string>();
  for (const layer of router.stack) for (const m of layer.methods) if (m !== 'HEAD') out.add(`${m} ${layer.path}`);
  return [...out].sort();
}

/** "METHOD /path" for every operation in the document. */
function documented(doc: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const m of Object.keys(item)) if (METHODS.includes(m)) out.push(`${m.toUpperCase()} ${path}`);
  }
  return out.sort();
}

async function validate(doc: unknown) {
  const validator = new Validator();
  const result = await validator.validate(doc as Record<string, unknown>);
  return { valid: result.valid, errors: result.errors, version: validator.version };
}

describe.each([
  ['with dynamic registration', { ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true' }],
  ['without dynamic registration', {}],
])('GET /api/openapi.json (%s)', (_name, env: Record<string, string>) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(env);
  });
  afterAll(() => server.close());

  test('is a valid OpenAPI 3.1 document describing this server', async () => {
    const res = await fetch(`${server.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = await json(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: server.url }]);
    const result = await validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result).toMatchObject({ valid: true, version: '3.1' });
    // The validator is not vacuous: a broken operation is caught.
    const broken = structuredClone(doc);
    broken.paths['/oauth/token'].post.responses = { '200': { content: {} } };
    expect((await validate(broken)).valid).toBe(false);
  });

  test('lists every route of the protocol router, and nothing else but /health', async () => {
    const doc = await json(await fetch(`${server.url}/api/openapi.json`));
    const routes = routed(server);
    expect(routes.length).toBeGreaterThanOrEqual(11);
    expect(documented(doc)).toEqual([...routes, 'GET /health'].sort());
    expect(routes.includes('POST /oauth/register')).toBe(Boolean(env.ENABLE_DYNAMIC_CLIENT_REGISTRATION));
  });

  test('every operation has an id, a summary and responses; error answers are the RFC error object', () => {
    const doc = openApiDocument(server.config);
    const ids = new Set<string>();
    for (const item of Object.values(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const op of Object.values(item)) {
        expect(typeof op.operationId).toBe('string');
        expect(ids.has(op.operationId as string)).toBe(false);
        ids.add(op.operationId as string);
        expect(op.summary).toBeTruthy();
        const responses = op.responses as Record<string, Record<string, unknown>>;
        for (const [status, answer] of Object.entries(responses)) {
          if (Number(status) >= 400 && Number(status) !== 503) {
            expect(JSON.stringify(answer)).toMatch(/#\/components\/(responses|schemas)\/(OAuthError|InvalidClient|InvalidToken|RateLimited|TemporarilyUnavailable)"/);
          }
        }
      }
    }
  });
});

/**
 * Whether a real answer has the documented shape: its required fields present, no field the schema
 * does not name (unless it allows more), and each named field of the documented JSON type. Enough to
 * catch drift between the document and the endpoints without a second schema engine.
 */
function shapeProblems(schema: Record<string, any>, body: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of schema.required ?? []) if (!(key in body)) problems.push(`missing ${key}`);
  const properties: Record<string, Record<string, any>> = schema.properties ?? {};
  for (const [key, value] of Object.entries(body)) {
    const property = properties[key];
    if (!property) {
      if (schema.additionalProperties !== true) problems.push(`undocumented ${key}`);
      continue;
    }
    const types: string[] = property.type ? [property.type] : property.oneOf ? property.oneOf.map((o: { type?: string }) => o.type).filter(Boolean) : [];
    const actual = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
    if (types.length > 0 && !types.includes(actual) && !(actual === 'integer' && types.includes('number'))) problems.push(`${key} is ${actual}, documented ${types.join('|')}`);
    if (property.const !== undefined && property.const !== value) problems.push(`${key} is ${String(value)}, documented ${String(property.const)}`);
    if (property.enum && !property.enum.includes(value)) problems.push(`${key} is ${String(value)}, documented one of ${property.enum.join(', ')}`);
  }
  return problems;
}

describe('real answers have the documented shapes', () => {
  let server: TestServer;
  let schemas: Record<string, Record<string, any>>;
  beforeAll(async () => {
    server = await startTestServer();
    schemas = (openApiDocument(server.config).components as { schemas: Record<string, Record<string, any>> }).schemas;
  });
  afterAll(() => server.close());

  const resolve = (schema: Record<string, any>): Record<string, any> => (schema.$ref ? schemas[String(schema.$ref).split('/').pop()!]! : schema);

  test('health, discovery, JWKS, device authorization, tokens, tokeninfo, introspection, errors', async () => {
    const get = async (path: string, headers: Record<string, string> = {}) => json(await fetch(`${server.url}${path}`, { headers }));
    const svc = await createClient(server, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const basic = { authorization: `Basic ${Buffer.from(`${svc.clientId}:${svc.clientSecret!}`).toString('base64')}` };
    const token = await postForm(`${server.url}/oauth/token`, { grant_type: 'client_credentials' }, basic);
    const accessToken = String(token.json.access_token);
    // Introspection's two alternatives: inactive, active.
    const [inactiveShape, activeShape] = (schemas.Introspection!.oneOf as Record<string, any>[]).map(resolve);
    const cases: [string, Record<string, any>, Record<string, unknown>][] = [
      ['health', schemas.Health!, await get('/health')],
      ['discovery', schemas.ServerMetadata!, await get('/.well-known/openid-configuration')],
      ['jwks', schemas.Jwks!, await get('/.well-known/jwks.json')],
      ['device authorization', schemas.DeviceAuthorizationResponse!, (await postForm(`${server.url}/oauth/device/code`, { client_id: server.cliClientId })).json],
      ['token', schemas.TokenResponse!, token.json],
      ['tokeninfo', schemas.TokenInfo!, await get('/oauth/tokeninfo', { authorization: `Bearer ${accessToken}` })],
      ['introspection (active)', activeShape!, (await postForm(`${server.url}/oauth/introspect`, { token: accessToken }, basic)).json],
      ['introspection (inactive)', inactiveShape!, (await postForm(`${server.url}/oauth/introspect`, { token: 'nope' }, basic)).json],
      ['error', schemas.OAuthError!, (await postForm(`${server.url}/oauth/token`, { grant_type: 'password' }, basic)).json],
      ['slow_down', schemas.OAuthError!, { error: 'slow_down', error_description: 'x', interval: 10 }],
    ];
    for (const [name, schema, body] of cases) expect([name, shapeProblems(schema, body)]).toEqual([name, []]);
  });
});

describe('Swagger UI at /api/swagger/', () => {
  let server: TestServer;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await browser?.close();
    await server.close();
  });

  test('its files come from this server: our page (no inline script, the usual CSP), the package bundle, our starter', async () => {
    const bare = await fetch(`${server.url}/api/swagger`, { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/api/swagger/');

    const page = await fetch(`${server.url}/api/swagger/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((s) => /src="([^"]+)"/.exec(s[1]!)?.[1])).toEqual(['swagger-ui-bundle.js', 'swagger-initializer.js']);
    for (const s of scripts) expect(s[2]!.trim()).toBe('');
    expect(html).not.toMatch(/https?:\/\//);

    for (const [file, type] of [
      ['swagger-ui-bundle.js', /^text\/javascript/],
      ['swagger-initializer.js', /^text\/javascript/],
      ['swagger-ui.css', /^text\/css/],
    ] as const) {
      const res = await fetch(`${server.url}/api/swagger/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      const etag = res.headers.get('etag')!;
      expect((await fetch(`${server.url}/api/swagger/${file}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    // Nothing else of the package (nor anything else) is reachable under the prefix.
    expect((await fetch(`${server.url}/api/swagger/package.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/swagger/../../package.json`)).status).toBe(404);
  });

  test('Chromium renders every operation, with no console errors', async () => {
    browser = await launchChromium();
    const { context, errors } = await watchedContext(browser);
    const page = await context.newPage();
    const outside: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(server.url) && !req.url().startsWith('data:')) outside.push(req.url());
    });
    const failed: string[] = [];
    page.on('response', (res) => {
      if (res.status() >= 400) failed.push(`${res.status()} ${res.url()}`);
    });
    await page.goto(`${server.url}/api/swagger/`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const doc = openApiDocument(server.config);
    const expected = documented(doc);
    const rendered = await page.$$eval('.opblock-summary', (els) =>
      els.map((el) => `${el.querySelector('.opblock-summary-method')?.textContent?.trim()} ${el.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    expect(rendered.sort()).toEqual(expected);
    // Open one operation: its parameters and responses render too.
    await page.click('#operations-Tokens-revoke .opblock-summary-control');
    await page.waitForSelector('#operations-Tokens-revoke .responses-table');
    await page.screenshot({ path: 'test/artifacts/swagger-ui.png', fullPage: false });
    expect(outside).toEqual([]);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
