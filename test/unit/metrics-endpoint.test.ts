// GET /metrics with a metrics source other than this process's registry, as a WEB_CONCURRENCY worker
// has (ops/cluster.ts: every worker's metrics, added up by the primary): its text is served as is,
// and when it cannot be had (the primary does not answer, the worker is leaving) the scrape gets a
// 503 saying why, never a partial or empty 200 that Prometheus would take for zeros.
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../../src/ops/metrics.js';
import { metricsEndpoint } from '../../src/ops/metrics-http.js';

async function scrape(collect: () => Promise<string>, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const app = new Koa();
  app.use(metricsEndpoint(new Metrics(), { token: 'scrape-token', collect }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`, { headers });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  } finally {
    server.close();
  }
}

const bearer = { authorization: 'Bearer scrape-token' };

test('the source’s text is served with the Prometheus content type', async () => {
  const res = await scrape(async () => 'oauth_tokens_issued_total{token_type="access",grant_type="client_credentials"} 12\n', bearer);
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  expect(res.text).toBe('oauth_tokens_issued_total{token_type="access",grant_type="client_credentials"} 12\n');
});

test('a source that fails answers 503 with the reason', async () => {
  const res = await scrape(() => Promise.reject(new Error('the primary did not answer with the workers’ metrics in time')), bearer);
  expect(res.status).toBe(503);
  expect(res.text).toBe('Metrics unavailable: the primary did not answer with the workers’ metrics in time');
});

test('the token is checked before the source is asked', async () => {
  let asked = 0;
  const res = await scrape(async () => {
    asked++;
    return '';
  });
  expect(res.status).toBe(401);
  expect(asked).toBe(0);
});
