// Loads the configured signing key and records it in the SigningKey table. Keys other instances
// record later are picked up on the first token that names one (see createJwtSigner). A key that is no longer
// configured is marked retired; while tokens it signed can still be alive (the longest access or ID
// token lifetime), its public half stays in the JWKS and its tokens still verify, so a key rotation
// does not cut off clients holding tokens signed with the old key. HS256 secrets are never stored,
// so tokens of a replaced HS256 secret stop verifying at once.
import { readFileSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { writeTransaction, type Tx } from '../db/transactions.js';
import { ConfigError } from '../domain/errors.js';
import { createJwtSigner, type JwtSigner } from './jwt.js';
import { isSigningAlgorithm, loadSigningKey, type VerificationKey } from './signing-key.js';

export async function loadSigner(
  config: Pick<Config, 'jwt' | 'tokenProfiles' | 'clientCredentialsExpiration' | 'database'>,
  db: Db,
  now = new Date(),
): Promise<JwtSigner> {
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
  const publicJwk = key.publicJwk ? JSON.stringify(key.publicJwk) : null;
  // One transaction: another instance never sees no active key, or two. Two instances starting with the
  // same new key may both insert it; the loser runs again and finds the row.
  const record = (tx: Tx) =>
    tx.signingKey
      .updateMany({ where: { status: 'active', NOT: { kid: key.kid } }, data: { status: 'retired', retiredAt: now } })
      .then(() =>
        tx.signingKey.upsert({
          where: { kid: key.kid },
          create: { kid: key.kid, alg: key.alg, publicJwk, status: 'active' },
          update: { alg: key.alg, publicJwk, status: 'active', retiredAt: null },
        }),
      );
  try {
    await writeTransaction(db, config.database.dialect, record);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    await writeTransaction(db, config.database.dialect, record);
  }
  const lifetime = longestTokenLifetime(config);
  return createJwtSigner(key, await verificationKeys(db, lifetime, now, key.kid), () => verificationKeys(db, lifetime, new Date(), key.kid));
}

function longestTokenLifetime(config: Pick<Config, 'tokenProfiles' | 'clientCredentialsExpiration'>): number {
  const profiles = Object.values(config.tokenProfiles).map((p) => p.access);
  return Math.max(config.clientCredentialsExpiration, ...profiles);
}

/**
 * Public keys whose tokens may still be alive, other than our own: keys other instances sign with
 * (active), and retired keys for as long as their tokens can live.
 */
async function verificationKeys(db: Db, lifetimeSeconds: number, now: Date, ownKid: string): Promise<VerificationKey[]> {
  const rows = await db.signingKey.findMany({
    where: {
      publicJwk: { not: null },
      NOT: { kid: ownKid },
      OR: [{ status: 'active' }, { status: 'retired', retiredAt: { gt: new Date(now.getTime() - lifetimeSeconds * 1000) } }],
    },
  });
  const keys: VerificationKey[] = [];
  for (const row of rows) {
    if (!isSigningAlgorithm(row.alg) || row.alg === 'HS256') continue;
    const publicJwk = JSON.parse(row.publicJwk!) as JWK;
    keys.push({ alg: row.alg, kid: row.kid, publicJwk, verifyKey: (await importJWK(publicJwk, row.alg)) as VerificationKey['verifyKey'] });
  }
  return keys;
}
