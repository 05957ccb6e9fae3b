// Rolling key rotation across instances (issue 6): instances A and B run with key K1; C starts with
// K2 on the same database. A token C signs is accepted by A and B within seconds, without a restart,
// because an unknown kid makes them reload the verification keys from signing_keys.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, SignJWT } from 'jose';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import type { Config } from '../../src/config/env.js';
import { createLogger } from '../../src/ops/logger.js';
import { createClient } from '../helpers/clients.js';
import { postForm } from '../helpers/oauth.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';

function p256KeyFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'authgate-reload-key-')), 'key.pem');
  writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return file;
}

async function startInstance(config: Config): Promise<{ gate: AuthGate; url: string }> {
  const gate = await createAuthGate(config, createLogger('silent'));
  const port = await freePort();
  await gate.listen(port, '127.0.0.1');
  return { gate, url: `http://127.0.0.1:${port}` };
}

describe('a key rotated on one instance is accepted by the others within seconds', () => {
  let a: TestServer;
  let b: { gate: AuthGate; url: string };
  let c: { gate: AuthGate; url: string } | undefined;
  beforeAll(async () => {
    a = await startTestServer({ JWT_SIGNING_ALGORITHM: 'ES256', JWT_PRIVATE_KEY_PATH: p256KeyFile() });
    b = await startInstance(a.config);
  });
  afterAll(async () => {
    await c?.gate.close();
    await b.gate.close();
    await a.close();
  });

  test('A and B (K1) accept a token from C (K2); C accepts theirs', async () => {
    const svc = await createClient(a, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
    const creds = { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! };
    const tokenInfo = (url: string, token: string) => fetch(`${url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    const fromA = String((await postForm(`${a.url}/oauth/token`, creds)).json.access_token);

    c = await startInstance({ ...a.config, jwt: { ...a.config.jwt, privateKeyPath: p256KeyFile() } });
    const fromC = String((await postForm(`${c.url}/oauth/token`, creds)).json.access_token);
    expect(decodeProtectedHeader(fromC).kid).not.toBe(decodeProtectedHeader(fromA).kid);

    const started = Date.now();
    let acceptedByA = 0;
    while (Date.now() - started < 10_000 && (acceptedByA = await tokenInfo(a.url, fromC)) !== 200) await new Promise((r) => setTimeout(r, 200));
    const elapsed = Date.now() - started;
    expect(acceptedByA).toBe(200);
    expect(elapsed).toBeLessThan(5_000);
    // B through introspection, the resource servers' way of asking.
    const introspected = await postForm(`${b.url}/oauth/introspect`, { token: fromC, client_id: svc.clientId, client_secret: svc.clientSecret! });
    expect(introspected.json.active).toBe(true);
    // B now publishes C's key too, and C (started after A's key was retired) still accepts A's tokens.
    const jwks = (await (await fetch(`${b.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(fromC).kid);
    expect(await tokenInfo(c.url, fromA)).toBe(200);
  });

  test('a token naming a kid no instance recorded stays refused, and does not make every request reload', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = await new SignJWT({ iss: a.config.baseUrl, sub: 'x', jti: 'forged', scope: 'read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'not-a-key-we-know', typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(stranger);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${a.url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${forged}` } }).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array(20).fill(401));
  });
});
