import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, jwtVerify, type JWK } from 'jose';
import { ConfigError } from '../../src/domain/errors.js';
import { loadSigningKey, type SigningAlgorithm, type SigningKey } from '../../src/keys/signing-key.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const SECRET = 'a-long-random-secret-of-at-least-32-bytes!!';

let dir: string;
function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}
function read(name: string): string {
  return readFileSync(join(dir, name), 'utf8');
}

// Keys generated once: RSA generation is the slow part of this file.
let rsa: { privateKey: KeyObject; publicKey: KeyObject };
let ec: { privateKey: KeyObject; publicKey: KeyObject };
let ecparamPem: string;
let certAndKeyPem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'signing-key-'));
  rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-out', 'ecparam.pem');
  ecparamPem = read('ecparam.pem');
  openssl(
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'cert-key.pem', '-out', 'cert.pem',
    '-subj', '/CN=signing-key-test', '-days', '1',
  );
  certAndKeyPem = read('cert.pem') + read('cert-key.pem');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const pkcs1 = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs1' }) as string;
const pkcs8 = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;
const sec1 = (k: KeyObject) => k.export({ format: 'pem', type: 'sec1' }) as string;
const spki = (k: KeyObject) => k.export({ format: 'pem', type: 'spki' }) as string;

/** RFC 7638 §3, computed independently of the code under test. */
function thumbprint(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical =
    jwk.kty === 'RSA'
      ? JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n })
      : JSON.stringify({ crv: jwk.crv, kty: 'EC', x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

async function expectConfigError(
  opts: Parameters<typeof loadSigningKey>[0],
  ...mustMention: (string | RegExp)[]
): Promise<ConfigError> {
  const err: unknown = await loadSigningKey(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  for (const m of mustMention) expect((err as Error).message).toMatch(m);
  return err as ConfigError;
}

/** Proves privateKey and publicJwk are halves of one pair, i.e. the right PEM block was used. */
async function expectPublishedKeyVerifies(key: SigningKey): Promise<void> {
  const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: key.alg }).sign(key.privateKey);
  const fromJwks = await importJWK(key.publicJwk!, key.alg);
  await expect(jwtVerify(token, fromJwks)).resolves.toBeDefined();
  await expect(jwtVerify(token, key.verifyKey)).resolves.toBeDefined();
}

function expectPublicOnly(jwk: JWK | null): void {
  expect(jwk).not.toBeNull();
  for (const m of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(m);
}

describe('RS256', () => {
  test.each([
    ['PKCS#1', () => pkcs1(rsa.privateKey)],
    ['PKCS#8', () => pkcs8(rsa.privateKey)],
    ['PKCS#1 with CRLF line endings', () => pkcs1(rsa.privateKey).replace(/\n/g, '\r\n')],
    ['public key block followed by private key block', () => spki(rsa.publicKey) + pkcs8(rsa.privateKey)],
    ['private key with surrounding prose', () => `my key:\n${pkcs1(rsa.privateKey)}\n(end)\n`],
  ])('loads %s and derives the RFC 7638 thumbprint as kid', async (_name, pem) => {
    const key = await loadSigningKey({ alg: 'RS256', privateKeyPem: pem() });
    expect(key.alg).toBe('RS256');
    expect(key.kid).toBe(thumbprint(rsa.publicKey));
    expect(key.publicJwk).toEqual({
      ...rsa.publicKey.export({ format: 'jwk' }),
      kid: key.kid,
      alg: 'RS256',
      use: 'sig',
    });
    expectPublicOnly(key.publicJwk);
    await expectPublishedKeyVerifies(key);
  });

  test('loads a certificate followed by its key (openssl req -x509 -nodes)', async () => {
    expect(certAndKeyPem).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const key = await loadSigningKey({ alg: 'RS256', privateKeyPem: certAndKeyPem });
    expectPublicOnly(key.publicJwk);
    expect(Object.keys(key.publicJwk!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    await expectPublishedKeyVerifies(key);
  });

  test('honours a configured kid', async () => {
    const key = await loadSigningKey({ alg: 'RS256', privateKeyPem: pkcs8(rsa.privateKey), kid: '2024-rotation-1' });
    expect(key.kid).toBe('2024-rotation-1');
    expect(key.publicJwk?.kid).toBe('2024-rotation-1');
  });

  test('refuses a 1024-bit RSA key', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expectConfigError({ alg: 'RS256', privateKeyPem: pkcs8(weak.privateKey) }, 'JWT_PRIVATE_KEY_PATH', /1024/, /2048/);
  });

  test('refuses an EC key', async () => {
    await expectConfigError({ alg: 'RS256', privateKeyPem: sec1(ec.privateKey) }, 'JWT_SIGNING_ALGORITHM', 'JWT_PRIVATE_KEY_PATH', /EC/);
  });

  test('refuses an RSA-PSS key (cannot produce PKCS#1 v1.5 signatures)', async () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    await expectConfigError({ alg: 'RS256', privateKeyPem: pkcs8(pss.privateKey) }, 'JWT_SIGNING_ALGORITHM', 'JWT_PRIVATE_KEY_PATH');
  });

  test('requires a key', async () => {
    await expectConfigError({ alg: 'RS256' }, 'JWT_PRIVATE_KEY_PATH');
    await expectConfigError({ alg: 'RS256', privateKeyPem: '  \n' }, 'JWT_PRIVATE_KEY_PATH');
  });
});

describe('ES256', () => {
  test.each([
    ['SEC1', () => sec1(ec.privateKey)],
    ['PKCS#8', () => pkcs8(ec.privateKey)],
  ])('loads %s and derives the RFC 7638 thumbprint as kid', async (_name, pem) => {
    const key = await loadSigningKey({ alg: 'ES256', privateKeyPem: pem() });
    expect(key.kid).toBe(thumbprint(ec.publicKey));
    expect(key.publicJwk).toEqual({
      ...ec.publicKey.export({ format: 'jwk' }),
      kid: key.kid,
      alg: 'ES256',
      use: 'sig',
    });
    expect(Object.keys(key.publicJwk!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
    await expectPublishedKeyVerifies(key);
  });

  test('loads `openssl ecparam -genkey` output (EC PARAMETERS block first)', async () => {
    expect(ecparamPem).toMatch(/^-----BEGIN EC PARAMETERS-----/);
    expect(ecparamPem).toContain('-----BEGIN EC PRIVATE KEY-----');
    const key = await loadSigningKey({ alg: 'ES256', privateKeyPem: ecparamPem, sourceName: '/etc/authgate/ec.pem' });
    expect(key.publicJwk?.crv).toBe('P-256');
    expectPublicOnly(key.publicJwk);
    await expectPublishedKeyVerifies(key);
  });

  test('loads a P-256 certificate followed by its key', async () => {
    openssl(
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', 'ec-cert-key.pem', '-out', 'ec-cert.pem', '-subj', '/CN=ec', '-days', '1',
    );
    const key = await loadSigningKey({ alg: 'ES256', privateKeyPem: read('ec-cert.pem') + read('ec-cert-key.pem') });
    await expectPublishedKeyVerifies(key);
  });

  test.each(['P-384', 'P-521', 'secp256k1'])('refuses a %s key', async (namedCurve) => {
    const other = generateKeyPairSync('ec', { namedCurve });
    await expectConfigError({ alg: 'ES256', privateKeyPem: pkcs8(other.privateKey) }, 'JWT_PRIVATE_KEY_PATH', /P-256/);
  });

  test('refuses an RSA key', async () => {
    await expectConfigError(
      { alg: 'ES256', privateKeyPem: pkcs1(rsa.privateKey) },
      'JWT_SIGNING_ALGORITHM',
      'JWT_PRIVATE_KEY_PATH',
      /ES256/,
      /RSA/,
    );
  });

  test('refuses an Ed25519 key', async () => {
    const ed = generateKeyPairSync('ed25519');
    await expectConfigError({ alg: 'ES256', privateKeyPem: pkcs8(ed.privateKey) }, 'JWT_SIGNING_ALGORITHM', /ed25519/);
  });
});

describe('PEM problems', () => {
  test('refuses an encrypted PKCS#8 key', async () => {
    const pem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(pem).toContain('ENCRYPTED PRIVATE KEY');
    await expectConfigError({ alg: 'RS256', privateKeyPem: pem }, 'JWT_PRIVATE_KEY_PATH', /encrypted/);
  });

  test('refuses a legacy encrypted PKCS#1 key (Proc-Type header)', async () => {
    const pem = rsa.privateKey.export({ format: 'pem', type: 'pkcs1', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(pem).toContain('Proc-Type: 4,ENCRYPTED');
    await expectConfigError({ alg: 'RS256', privateKeyPem: pem }, 'JWT_PRIVATE_KEY_PATH', /encrypted/);
  });

  test('refuses garbage', async () => {
    await expectConfigError({ alg: 'RS256', privateKeyPem: 'this is not a key\n' }, 'JWT_PRIVATE_KEY_PATH', /no PEM block/);
  });

  test('refuses a private key block with a corrupt body', async () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbA==\n-----END PRIVATE KEY-----\n';
    await expectConfigError({ alg: 'RS256', privateKeyPem: pem, sourceName: 'key.pem' }, 'JWT_PRIVATE_KEY_PATH', 'key.pem');
  });

  test('refuses a file holding only a public key or certificate', async () => {
    await expectConfigError({ alg: 'RS256', privateKeyPem: spki(rsa.publicKey) }, 'JWT_PRIVATE_KEY_PATH', /PUBLIC KEY/);
    await expectConfigError({ alg: 'RS256', privateKeyPem: read('cert.pem') }, 'JWT_PRIVATE_KEY_PATH', /CERTIFICATE/);
  });

  test('refuses a file holding two private keys', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectConfigError(
      { alg: 'ES256', privateKeyPem: sec1(ec.privateKey) + sec1(other.privateKey) },
      'JWT_PRIVATE_KEY_PATH',
      /exactly one/,
    );
  });

  test('names the source in errors', async () => {
    await expectConfigError({ alg: 'RS256', privateKeyPem: 'junk', sourceName: '/run/secrets/jwt.pem' }, '/run/secrets/jwt.pem');
  });
});

describe('HS256', () => {
  test('loads a secret without publishing it', async () => {
    const key = await loadSigningKey({ alg: 'HS256', secret: SECRET });
    expect(key.alg).toBe('HS256');
    expect(key.publicJwk).toBeNull();
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(key.privateKey);
    // The key really is the UTF-8 bytes of the secret.
    await expect(jwtVerify(token, new TextEncoder().encode(SECRET))).resolves.toBeDefined();
    await expect(jwtVerify(token, key.verifyKey)).resolves.toBeDefined();
  });

  test('derives a stable kid that does not reveal the secret', async () => {
    const a = await loadSigningKey({ alg: 'HS256', secret: SECRET });
    const b = await loadSigningKey({ alg: 'HS256', secret: SECRET });
    const c = await loadSigningKey({ alg: 'HS256', secret: SECRET + 'x' });
    expect(a.kid).toBe(b.kid);
    expect(a.kid).not.toBe(c.kid);
    expect(a.kid).toMatch(/^[A-Za-z0-9_-]{8,}$/);
    expect(a.kid).not.toContain(SECRET.slice(0, 6));
    expect(a.kid).not.toContain(Buffer.from(SECRET).toString('base64url').slice(0, 6));
    // Not the plain hash of the secret either (which would match other uses of SHA-256(secret)).
    expect(createHash('sha256').update(SECRET).digest('base64url')).not.toContain(a.kid);
  });

  test('honours a configured kid', async () => {
    const key = await loadSigningKey({ alg: 'HS256', secret: SECRET, kid: 'hmac-1' });
    expect(key.kid).toBe('hmac-1');
  });

  test('refuses a short secret without echoing it', async () => {
    const short = 'only-31-bytes-long-secret-value';
    expect(Buffer.byteLength(short)).toBe(31);
    const err = await expectConfigError({ alg: 'HS256', secret: short }, 'JWT_SECRET', /32/);
    expect(err.message).not.toContain(short);
  });

  test('counts bytes, not characters', async () => {
    // 16 characters, 32 UTF-8 bytes.
    await expect(loadSigningKey({ alg: 'HS256', secret: 'é'.repeat(16) })).resolves.toBeDefined();
    await expectConfigError({ alg: 'HS256', secret: 'é'.repeat(15) }, 'JWT_SECRET');
  });

  test('requires a secret', async () => {
    await expectConfigError({ alg: 'HS256' }, 'JWT_SECRET');
    await expectConfigError({ alg: 'HS256', secret: '' }, 'JWT_SECRET');
  });

  test('ignores a PEM key', async () => {
    const key = await loadSigningKey({ alg: 'HS256', secret: SECRET, privateKeyPem: pkcs8(rsa.privateKey) });
    expect(key.publicJwk).toBeNull();
  });
});

describe('configuration values', () => {
  test.each(['none', 'PS256', 'hs256', ''])('refuses algorithm %j', async (alg) => {
    await expectConfigError({ alg: alg as SigningAlgorithm, secret: SECRET }, 'JWT_SIGNING_ALGORITHM');
  });

  test.each(['', 'has space', 'tab\there', 'x'.repeat(257)])('refuses kid %j', async (kid) => {
    await expectConfigError({ alg: 'HS256', secret: SECRET, kid }, 'JWT_KEY_ID');
  });
});
