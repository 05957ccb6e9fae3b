// Loads the server's JWT signing key from configuration and refuses to start on anything weak,
// ambiguous or mismatched: a bad key discovered at startup is an outage of one deploy, a bad key
// discovered by a relying party is a security incident.

import { createHash, createPrivateKey, createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { ConfigError } from '../domain/errors.js';

export type SigningAlgorithm = 'HS256' | 'RS256' | 'ES256';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['HS256', 'RS256', 'ES256'];

/** What verifying needs: enough for a retired key, whose private half is no longer at hand. */
export type VerificationKey = Pick<SigningKey, 'alg' | 'kid' | 'verifyKey' | 'publicJwk'>;

export interface SigningKey {
  alg: SigningAlgorithm;
  kid: string;
  /** Key jose's SignJWT signs with. loadSigningKey returns a non-extractable CryptoKey. */
  privateKey: webcrypto.CryptoKey | KeyObject | Uint8Array;
  /** Public key, or the shared secret for HS256. */
  verifyKey: webcrypto.CryptoKey | KeyObject | Uint8Array;
  /** Public JWK with kid, alg and use 'sig'; null for HS256 because a secret is never published. */
  publicJwk: JWK | null;
}

export interface LoadSigningKeyOptions {
  alg: SigningAlgorithm;
  /** HS256 shared secret (JWT_SECRET). */
  secret?: string;
  /** Contents of the PEM file named by JWT_PRIVATE_KEY_PATH. */
  privateKeyPem?: string;
  /** Where privateKeyPem came from (usually the file path), only used in error messages. */
  sourceName?: string;
  /** JWT_KEY_ID override. */
  kid?: string;
}

// RFC 7518 §3.2: an HMAC key must be at least as long as the hash output (256 bits for HS256).
const MIN_HS256_SECRET_BYTES = 32;
// RFC 7518 §3.3: RSA keys for RS256 must be 2048 bits or larger.
const MIN_RSA_MODULUS_BITS = 2048;
const MAX_KID_LENGTH = 256;

const subtle = webcrypto.subtle;

export async function loadSigningKey(opts: LoadSigningKeyOptions): Promise<SigningKey> {
  // The options usually come straight from environment variables, so the union type is not a
  // guarantee at runtime.
  const alg: unknown = opts.alg;
  if (!isSigningAlgorithm(alg)) {
    throw new ConfigError(
      `JWT_SIGNING_ALGORITHM must be one of ${SIGNING_ALGORITHMS.join(', ')} (got ${JSON.stringify(alg)})`,
    );
  }
  if (opts.kid !== undefined) validateKid(opts.kid);

  return alg === 'HS256' ? loadHmacKey(opts.secret, opts.kid) : loadAsymmetricKey(alg, opts);
}

export function isSigningAlgorithm(value: unknown): value is SigningAlgorithm {
  return typeof value === 'string' && (SIGNING_ALGORITHMS as readonly string[]).includes(value);
}

function validateKid(kid: string): void {
  // The kid travels in every JWT header and in the published JWKS; keep it to visible ASCII so it
  // cannot smuggle whitespace or control characters into logs, headers or key lookups.
  if (kid.length === 0 || kid.length > MAX_KID_LENGTH || !/^[\x21-\x7e]+$/.test(kid)) {
    throw new ConfigError(
      `JWT_KEY_ID must be 1-${MAX_KID_LENGTH} visible ASCII characters without spaces`,
    );
  }
}

async function loadHmacKey(secret: string | undefined, kid: string | undefined): Promise<SigningKey> {
  if (secret === undefined || secret === '') {
    throw new ConfigError('JWT_SECRET is required when JWT_SIGNING_ALGORITHM is HS256');
  }
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < MIN_HS256_SECRET_BYTES) {
    throw new ConfigError(
      `JWT_SECRET must be at least ${MIN_HS256_SECRET_BYTES} bytes for HS256 (got ${bytes.length}); ` +
        'generate one with `openssl rand -base64 48`',
    );
  }
  // One non-extractable CryptoKey serves both directions: jose would otherwise re-import raw secret
  // bytes on every sign and verify.
  const key = await subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  return { alg: 'HS256', kid: kid ?? deriveHmacKid(secret), privateKey: key, verifyKey: key, publicJwk: null };
}

/**
 * A stable kid for a secret, so that rotating JWT_SECRET changes the kid and old tokens fail fast
 * on lookup. The kid is public (it is in every token header), but it gives an attacker nothing the
 * token's own HMAC does not already give: both are offline oracles for guessing the secret, which is
 * why the secret must be long and random. The prefix keeps this hash from colliding with any other
 * use of SHA-256(secret).
 */
function deriveHmacKid(secret: string): string {
  return createHash('sha256').update('kid:' + secret, 'utf8').digest().subarray(0, 12).toString('base64url');
}

async function loadAsymmetricKey(alg: 'RS256' | 'ES256', opts: LoadSigningKeyOptions): Promise<SigningKey> {
  const where = opts.sourceName ? `JWT_PRIVATE_KEY_PATH (${opts.sourceName})` : 'JWT_PRIVATE_KEY_PATH';
  if (opts.privateKeyPem === undefined || opts.privateKeyPem.trim() === '') {
    throw new ConfigError(`JWT_PRIVATE_KEY_PATH must point to a PEM private key when JWT_SIGNING_ALGORITHM is ${alg}`);
  }

  const keyObject = parsePrivateKeyPem(opts.privateKeyPem, where);
  checkKeyMatchesAlgorithm(alg, keyObject, where);

  const publicJwk = publicMembers(alg, createPublicKey(keyObject).export({ format: 'jwk' }));
  // RFC 7638 thumbprint: a kid every party can recompute from the public key alone, and that
  // changes exactly when the key does.
  const kid = opts.kid ?? (await calculateJwkThumbprint(publicJwk, 'sha256'));
  const published: JWK = Object.freeze({ ...publicJwk, kid, alg, use: 'sig' });

  // Import into WebCrypto once here, because that is what jose signs with; handing it KeyObjects
  // would make it convert (or look up a cached conversion) on every call.
  const params =
    alg === 'RS256'
      ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256' };
  const privateKey = await subtle.importKey(
    'pkcs8',
    keyObject.export({ format: 'der', type: 'pkcs8' }),
    params,
    false,
    ['sign'],
  );
  const verifyKey = await subtle.importKey('jwk', publicJwk as webcrypto.JsonWebKey, params, true, ['verify']);

  return { alg, kid, privateKey, verifyKey, publicJwk: published };
}

interface PemBlock {
  label: string;
  text: string;
  body: string;
}

// RFC 7468 §2: the END label must repeat the BEGIN label.
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Finds the single private key in a PEM file. Files produced by common tooling carry other blocks
 * too (`openssl ecparam -genkey` prepends EC PARAMETERS; cert bundles put a CERTIFICATE first), so
 * we pick the private-key block instead of requiring a clean file.
 */
function parsePrivateKeyPem(pem: string, where: string): KeyObject {
  const blocks: PemBlock[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) {
    blocks.push({ label: m[1] ?? '', text: m[0], body: m[2] ?? '' });
  }
  const privateBlocks = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));

  if (privateBlocks.length === 0) {
    const found = blocks.length ? `it only contains ${[...new Set(blocks.map((b) => b.label))].join(', ')}` : 'no PEM block found';
    throw new ConfigError(`${where} does not contain a PEM private key (${found})`);
  }
  if (privateBlocks.length > 1) {
    throw new ConfigError(`${where} contains ${privateBlocks.length} private keys; it must contain exactly one`);
  }
  const block = privateBlocks[0]!;

  // PKCS#8 encryption (RFC 5958 §3) and the legacy OpenSSL "Proc-Type: 4,ENCRYPTED" header.
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(block.body)) {
    throw new ConfigError(
      `${where} holds a passphrase-encrypted private key, which is not supported; ` +
        'decrypt it with `openssl pkey -in encrypted.pem -out key.pem`',
    );
  }
  if (block.label === 'OPENSSH PRIVATE KEY') {
    throw new ConfigError(
      `${where} holds an OpenSSH-format key; convert it to PKCS#8 with \`openssl pkey -in key -out key.pem\``,
    );
  }

  try {
    // Only the chosen block is passed on, so surrounding blocks can never be picked up instead.
    return createPrivateKey({ key: block.text, format: 'pem' });
  } catch (err) {
    // Node's message names the decoder failure, never key material.
    throw new ConfigError(`${where} holds a ${block.label} block that could not be parsed: ${(err as Error).message}`);
  }
}

function checkKeyMatchesAlgorithm(alg: 'RS256' | 'ES256', key: KeyObject, where: string): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (alg === 'RS256') {
    // 'rsa-pss' keys are restricted to PSS padding and cannot produce RS256 (PKCS#1 v1.5) signatures.
    if (type !== 'rsa') {
      throw new ConfigError(
        `JWT_SIGNING_ALGORITHM is RS256 but ${where} holds ${describeKeyType(key)}; RS256 needs an RSA key`,
      );
    }
    const bits = details.modulusLength ?? 0;
    if (bits < MIN_RSA_MODULUS_BITS) {
      throw new ConfigError(
        `${where} holds a ${bits}-bit RSA key; RS256 (JWT_SIGNING_ALGORITHM) requires at least ${MIN_RSA_MODULUS_BITS} bits`,
      );
    }
    return;
  }
  // RFC 7518 §3.4: ES256 is ECDSA on P-256 (OpenSSL's prime256v1) with SHA-256, nothing else.
  if (type !== 'ec') {
    throw new ConfigError(
      `JWT_SIGNING_ALGORITHM is ES256 but ${where} holds ${describeKeyType(key)}; ES256 needs an EC P-256 key`,
    );
  }
  if (details.namedCurve !== 'prime256v1') {
    throw new ConfigError(
      `JWT_SIGNING_ALGORITHM is ES256 but ${where} holds an EC key on ${details.namedCurve ?? 'an unnamed curve'}; ES256 requires P-256 (prime256v1)`,
    );
  }
}

function describeKeyType(key: KeyObject): string {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'an RSA key';
    case 'rsa-pss':
      return 'an RSA-PSS key';
    case 'ec':
      return `an EC key (${key.asymmetricKeyDetails?.namedCurve ?? 'unnamed curve'})`;
    default:
      return `a ${key.asymmetricKeyType ?? 'unknown'} key`;
  }
}

/**
 * Rebuilds the public JWK from an allow-list of members rather than deleting private ones, so a
 * member we did not anticipate can never leak into the published JWKS.
 */
function publicMembers(alg: 'RS256' | 'ES256', jwk: webcrypto.JsonWebKey): JWK {
  if (alg === 'RS256') {
    if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new ConfigError('JWT_PRIVATE_KEY_PATH: could not export the RSA public key');
    return { kty: 'RSA', n: jwk.n, e: jwk.e };
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.x || !jwk.y) {
    throw new ConfigError('JWT_PRIVATE_KEY_PATH: could not export the EC P-256 public key');
  }
  return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
}
