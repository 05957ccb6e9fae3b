// Which security headers an answer carries: the document set on pages, the API set on the protocol
// face's JSON (http/security-headers.ts), and HSTS on both when the server is reached over https.
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { securityHeaders } from '../../src/http/security-headers.js';

async function headersOf(hsts: boolean, path: string): Promise<Headers> {
  const app = new Koa();
  app.use(securityHeaders({ hsts, api: (p) => p.startsWith('/oauth/') }));
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    return (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`)).headers;
  } finally {
    server.close();
  }
}

test.each([
  ['a page', '/login', "script-src 'self'", 'same-origin', 'no-referrer'],
  ['an API answer', '/oauth/token', "default-src 'none'; frame-ancestors 'none'", null, null],
])('%s: nosniff and no framing always, the document policies only on pages, HSTS only when asked', async (_kind, path, csp, coop, referrer) => {
  for (const hsts of [false, true]) {
    const headers = await headersOf(hsts, path);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('content-security-policy')).toContain(csp);
    expect(headers.get('cross-origin-opener-policy')).toBe(coop);
    expect(headers.get('referrer-policy')).toBe(referrer);
    expect(headers.get('strict-transport-security')).toBe(hsts ? 'max-age=31536000; includeSubDomains' : null);
  }
});
