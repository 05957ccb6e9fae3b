// Replacing the signing key: tokens signed with the old key keep working, and its public key stays
// published, for as long as such tokens can live; after that only the new key remains.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader } from 'jose';
import { createAuthGate, type AuthGate } from '../../src/app.js';
import { createLogger } from '../../src/ops/logger.js';
import { createClient } from '../helpers/clients.js';
import { json, postForm } from '../helpers/oauth.js';
import { freePort, startTestServer } from '../helpers/server.js';

function keyFile(kind: 'ec' | 'rsa'): string {
  const file = join(mkdtempSync(join(tmpdir(), 'authgate-key-')), 'key.pem');
  const pair = kind === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(file, pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  return file;
}

test('rotating ES256 → RS256: old tokens verify and the old key stays published until they have expired', async () => {
  const first = await startTestServer({ JWT_SIGNING_ALGORITHM: 'ES256', JWT_PRIVATE_KEY_PATH: keyFile('ec') });
  const svc = await createClient(first, { type: 'confidential', clientCredentials: true, authCode: false, scopes: 'read' });
  const creds = { grant_type: 'client_credentials', client_id: svc.clientId, client_secret: svc.clientSecret! };
  const oldToken = (await postForm(`${first.url}/oauth/token`, creds)).json.access_token as string;
  const oldKid = decodeProtectedHeader(oldToken).kid;
  await first.authgate.close();

  // The same data, restarted with a new key (the database is kept: only the app was closed).
  const port = await freePort();
  const config = { ...first.config, jwt: { ...first.config.jwt, alg: 'RS256' as const, privateKeyPath: keyFile('rsa') } };
  let second: AuthGate | undefined = await createAuthGate(config, createLogger('silent'));
  try {
    await second.listen(port, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    const jwks = await json(await fetch(`${url}/.well-known/jwks.json`));
    const kids = (jwks.keys as { kid: string; alg: string }[]).map((k) => k.kid);
    expect(kids).toContain(oldKid);
    expect(kids).toHaveLength(2);
    expect((await fetch(`${url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(200);
    const newToken = (await postForm(`${url}/oauth/token`, creds)).json.access_token as string;
    expect(decodeProtectedHeader(newToken)).toMatchObject({ alg: 'RS256' });
    const stored = await second.db.signingKey.findMany();
    expect(stored.map((k) => k.status).sort()).toEqual(['active', 'retired']);

    // Once the old key has been retired for longer than any token lives (24 h at most here), it is gone.
    await second.db.signingKey.updateMany({ where: { status: 'retired' }, data: { retiredAt: new Date(Date.now() - 48 * 3600_000) } });
    await second.close();
    second = await createAuthGate(config, createLogger('silent'));
    await second.listen(port, '127.0.0.1');
    const later = await json(await fetch(`${url}/.well-known/jwks.json`));
    expect((later.keys as { kid: string }[]).map((k) => k.kid)).not.toContain(oldKid);
    expect((await fetch(`${url}/oauth/tokeninfo`, { headers: { authorization: `Bearer ${oldToken}` } })).status).toBe(401);
  } finally {
    await second?.close();
    first.authgate.close = async () => {};
    await first.close();
  }
});
