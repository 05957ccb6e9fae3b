// Loads the configured signing key and records it in the SigningKey table, so the set of keys ever
// used is known (and more than one can be published once rotation lands). A key that is no longer
// configured is marked retired, with the time it stopped being used.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { ConfigError } from '../domain/errors.js';
import { createJwtSigner, type JwtSigner } from './jwt.js';
import { loadSigningKey } from './signing-key.js';

export async function loadSigner(config: Pick<Config, 'jwt'>, db: Db): Promise<JwtSigner> {
  let privateKeyPem: string | undefined;
  if (config.jwt.alg !== 'HS256' && config.jwt.privateKeyPath) {
    try {
      privateKeyPem = readFileSync(config.jwt.privateKeyPath, 'utf8');
    } catch (err) {
      throw new ConfigError(`JWT_PRIVATE_KEY_PATH cannot be read (${config.jwt.privateKeyPath}): ${(err as Error).message}`);
    }
  }
  const key = await loadSigningKey({
    alg: config.jwt.alg,
    secret: config.jwt.secret,
    privateKeyPem,
    sourceName: config.jwt.privateKeyPath,
    kid: config.jwt.keyId,
  });
  const now = new Date();
  await db.signingKey.updateMany({ where: { status: 'active', NOT: { kid: key.kid } }, data: { status: 'retired', retiredAt: now } });
  const publicJwk = key.publicJwk ? JSON.stringify(key.publicJwk) : null;
  await db.signingKey.upsert({
    where: { kid: key.kid },
    create: { kid: key.kid, alg: key.alg, publicJwk, status: 'active' },
    update: { alg: key.alg, publicJwk, status: 'active', retiredAt: null },
  });
  return createJwtSigner(key);
}
