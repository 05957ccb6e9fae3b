import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, importJWK, jwtVerify, type JWTPayload } from 'jose';
import { ConfigError } from '../../src/domain/errors.js';
import { JwtInvalid, createJwtSigner, type JwtSigner } from '../../src/keys/jwt.js';
import { loadSigningKey, type SigningAlgorithm, type SigningKey } from '../../src/keys/signing-key.js';

const ISSUER = 'https://auth.example.test';
const AT = 'at+jwt';
const inSeconds = (s: number) => new Date(Date.now() + s * 1000);

let rsaKey: SigningKey;
let ecKey: SigningKey;
let hmacKey: SigningKey;
let rsaPublicPem: string;

beforeAll(async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  rsaPublicPem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  rsaKey = await loadSigningKey({ alg: 'RS256', privateKeyPem: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  ecKey = await loadSigningKey({ alg: 'ES256', privateKeyPem: ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string });
  hmacKey = await loadSigningKey({ alg: 'HS256', secret: 'hmac-secret-that-is-definitely-32-bytes-long' });
});

async function expectInvalid(signer: JwtSigner, token: string, opts: Partial<{ typ: string; issuer: string; audience: string }> = {}) {
  const err: unknown = await signer.verify(token, { typ: AT, issuer: ISSUER, ...opts }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JwtInvalid);
  return err as JwtInvalid;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe.each<[SigningAlgorithm, () => SigningKey]>([
  ['RS256', () => rsaKey],
  ['ES256', () => ecKey],
  ['HS256', () => hmacKey],
])('%s signer', (alg, getKey) => {
  let signer: JwtSigner;
  beforeAll(() => {
    signer = createJwtSigner(getKey());
  });

  const sign = (claims: JWTPayload = { iss: ISSUER, sub: 'user-1' }, opts: Partial<{ typ: string; expiresAt: Date; issuedAt: Date }> = {}) =>
    signer.sign(claims, { typ: AT, expiresAt: inSeconds(300), ...opts });

  test('signs with alg, kid and typ headers and verifies its own tokens', async () => {
    const issuedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
    const expiresAt = inSeconds(600);
    const token = await sign({ iss: ISSUER, sub: 'user-1', scope: 'openid' }, { issuedAt, expiresAt });
    expect(decodeProtectedHeader(token)).toEqual({ alg, kid: getKey().kid, typ: AT });
    expect(signer.alg).toBe(alg);
    expect(signer.kid).toBe(getKey().kid);

    const payload = await signer.verify(token, { typ: AT, issuer: ISSUER });
    expect(payload).toMatchObject({ iss: ISSUER, sub: 'user-1', scope: 'openid' });
    expect(payload.iat).toBe(issuedAt.getTime() / 1000);
    expect(payload.exp).toBe(Math.floor(expiresAt.getTime() / 1000));
  });

  test('signatures asked for together are each made for their own claims; one that fails fails alone', async () => {
    const subjects = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    // A claim JSON cannot encode makes that signature throw, in the middle of the others.
    const results = await Promise.allSettled([
      ...subjects.slice(0, 20).map((sub) => sign({ iss: ISSUER, sub })),
      sign({ iss: ISSUER, sub: 'bad', count: 1n as unknown as number }),
      ...subjects.slice(20).map((sub) => sign({ iss: ISSUER, sub })),
    ]);
    expect(results[20]).toMatchObject({ status: 'rejected', reason: expect.any(TypeError) });
    const tokens = results.filter((r, i) => i !== 20).map((r) => (r as PromiseFulfilledResult<string>).value);
    expect(new Set(tokens).size).toBe(subjects.length);
    const payloads = await Promise.all(tokens.map((token) => signer.verify(token, { typ: AT, issuer: ISSUER })));
    expect(payloads.map((p) => p.sub)).toEqual(subjects);
    // And a signature asked for later, in another turn, is made too.
    await expect(sign().then((token) => signer.verify(token, { typ: AT, issuer: ISSUER }))).resolves.toMatchObject({ sub: 'user-1' });
  });

  test('rejects a different typ, compared exactly', async () => {
    const token = await sign();
    await expectInvalid(signer, token, { typ: 'JWT' });
    const idToken = await sign(undefined, { typ: 'JWT' });
    await expectInvalid(signer, idToken);
    for (const typ of ['AT+JWT', 'application/at+jwt']) {
      await expectInvalid(signer, await sign(undefined, { typ }));
    }
  });

  test('rejects expired tokens, with a few seconds of clock tolerance', async () => {
    await expectInvalid(signer, await sign(undefined, { issuedAt: inSeconds(-120), expiresAt: inSeconds(-60) }));
    const justExpired = await sign(undefined, { issuedAt: inSeconds(-120), expiresAt: inSeconds(-1) });
    await expect(signer.verify(justExpired, { typ: AT, issuer: ISSUER })).resolves.toBeDefined();
  });

  test('rejects tokens not yet valid', async () => {
    await expectInvalid(signer, await sign({ iss: ISSUER, nbf: Math.floor(Date.now() / 1000) + 120 }));
  });

  test('rejects a wrong or missing issuer', async () => {
    await expectInvalid(signer, await sign({ iss: 'https://evil.example' }));
    await expectInvalid(signer, await sign({ sub: 'no-iss' }));
    await expectInvalid(signer, await sign(), { issuer: 'https://other.example' });
  });

  test('checks the audience when asked', async () => {
    const token = await sign({ iss: ISSUER, aud: ['https://api.example', 'https://other.example'] });
    await expect(signer.verify(token, { typ: AT, issuer: ISSUER, audience: 'https://api.example' })).resolves.toBeDefined();
    await expectInvalid(signer, token, { audience: 'https://nope.example' });
    await expectInvalid(signer, await sign(), { audience: 'https://api.example' });
  });

  test('rejects a tampered payload or signature', async () => {
    const token = await sign();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
    await expectInvalid(signer, [header, b64json({ ...claims, sub: 'admin' }), signature].join('.'));
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    await expectInvalid(signer, [header, payload, flipped].join('.'));
    await expectInvalid(signer, [header, payload, ''].join('.'));
    await expectInvalid(signer, 'not.a.jwt');
    await expectInvalid(signer, '');
  });

  test('rejects alg "none"', async () => {
    const header = b64json({ alg: 'none', kid: getKey().kid, typ: AT });
    const payload = b64json({ iss: ISSUER, sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 300 });
    await expectInvalid(signer, `${header}.${payload}.`);
  });

  test('rejects an unknown or missing kid', async () => {
    const claims = { iss: ISSUER, exp: Math.floor(Date.now() / 1000) + 300 };
    const unknown = await new SignJWT(claims).setProtectedHeader({ alg, kid: 'someone-else', typ: AT }).sign(getKey().privateKey);
    await expectInvalid(signer, unknown);
    const missing = await new SignJWT(claims).setProtectedHeader({ alg, typ: AT }).sign(getKey().privateKey);
    await expectInvalid(signer, missing);
  });

  test('rejects a token without exp', async () => {
    const token = await new SignJWT({ iss: ISSUER }).setProtectedHeader({ alg, kid: getKey().kid, typ: AT }).sign(getKey().privateKey);
    await expectInvalid(signer, token);
  });

  test('rejects a token signed by another key under our kid', async () => {
    const kid = getKey().kid;
    const pem = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;
    const impostor =
      alg === 'RS256'
        ? await loadSigningKey({ alg, kid, privateKeyPem: pem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey) })
        : alg === 'ES256'
          ? await loadSigningKey({ alg, kid, privateKeyPem: pem(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey) })
          : await loadSigningKey({ alg: 'HS256', kid, secret: 'another-secret-that-is-also-32-bytes-long' });
    const forged = await createJwtSigner(impostor).sign({ iss: ISSUER }, { typ: AT, expiresAt: inSeconds(60) });
    await expectInvalid(signer, forged);
  });
});

describe('algorithm confusion', () => {
  test('an RS256 signer rejects HS256 tokens keyed with its public key', async () => {
    const signer = createJwtSigner(rsaKey);
    const claims = { iss: ISSUER, sub: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    const header = { alg: 'HS256', kid: rsaKey.kid, typ: AT };
    const jwkJson = JSON.stringify(rsaKey.publicJwk);
    for (const secret of [rsaPublicPem, rsaPublicPem.trim(), jwkJson]) {
      const forged = await new SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode(secret));
      await expectInvalid(signer, forged);
    }
  });

  test('a signer rejects a token whose alg differs from its kid\'s key, even if both algs are accepted', async () => {
    // RS256 current key plus an HS256 retired key: both algorithms are allowed, but each only for its own kid.
    const signer = createJwtSigner(rsaKey, [hmacKey]);
    const claims = { iss: ISSUER, exp: Math.floor(Date.now() / 1000) + 300 };
    const hsUnderRsaKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: rsaKey.kid, typ: AT })
      .sign(hmacKey.privateKey);
    const err = await expectInvalid(signer, hsUnderRsaKid);
    expect(err.message).toMatch(/alg does not match/);
    const legit = await createJwtSigner(hmacKey).sign({ iss: ISSUER }, { typ: AT, expiresAt: inSeconds(60) });
    await expect(signer.verify(legit, { typ: AT, issuer: ISSUER })).resolves.toBeDefined();
  });
});

describe('key rotation', () => {
  test('tokens from a retired key still verify and the key stays published', async () => {
    const retired = createJwtSigner(ecKey);
    const current = createJwtSigner(rsaKey, [ecKey]);
    const old = await retired.sign({ iss: ISSUER, sub: 'u' }, { typ: AT, expiresAt: inSeconds(60) });
    await expect(current.verify(old, { typ: AT, issuer: ISSUER })).resolves.toMatchObject({ sub: 'u' });

    const fresh = await current.sign({ iss: ISSUER }, { typ: AT, expiresAt: inSeconds(60) });
    expect(decodeProtectedHeader(fresh).kid).toBe(rsaKey.kid);

    const { keys } = current.jwks();
    expect(keys.map((k) => k.kid)).toEqual([rsaKey.kid, ecKey.kid]);
    // A relying party using only the published JWKS can verify the old token.
    const published = keys.find((k) => k.kid === ecKey.kid)!;
    await expect(jwtVerify(old, await importJWK(published, 'ES256'))).resolves.toBeDefined();

    // The retired key is not known to a signer that was not given it.
    await expectInvalid(createJwtSigner(rsaKey), old);
  });

  test('refuses two keys with the same kid', () => {
    expect(() => createJwtSigner(rsaKey, [{ ...ecKey, kid: rsaKey.kid }])).toThrow(ConfigError);
    expect(() => createJwtSigner(rsaKey, [rsaKey])).toThrow(/JWT_KEY_ID/);
  });
});

describe('jwks', () => {
  test('is empty for HS256, including retired HS256 keys', () => {
    expect(createJwtSigner(hmacKey).jwks()).toEqual({ keys: [] });
    const retiredHmac = { ...hmacKey, kid: 'old-hmac' };
    expect(createJwtSigner(ecKey, [retiredHmac]).jwks().keys.map((k) => k.kid)).toEqual([ecKey.kid]);
  });

  test('publishes public members only', () => {
    const { keys } = createJwtSigner(rsaKey, [ecKey]).jwks();
    expect(keys).toEqual([rsaKey.publicJwk, ecKey.publicJwk]);
    for (const k of keys) {
      for (const m of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(k).not.toHaveProperty(m);
      expect(k.use).toBe('sig');
    }
  });

  test('cannot be modified by a caller', () => {
    const signer = createJwtSigner(rsaKey);
    const first = signer.jwks();
    first.keys[0]!.kid = 'mutated';
    first.keys.push({ kty: 'oct' });
    expect(signer.jwks().keys).toEqual([rsaKey.publicJwk]);
  });
});

describe('keys not built by loadSigningKey', () => {
  test('accepts a raw HS256 secret', async () => {
    const secret = new TextEncoder().encode('raw-secret-bytes-that-are-32-bytes-long!');
    const signer = createJwtSigner({ alg: 'HS256', kid: 'raw', privateKey: secret, verifyKey: secret, publicJwk: null });
    const token = await signer.sign({ iss: ISSUER }, { typ: 'JWT', expiresAt: inSeconds(60) });
    await expect(signer.verify(token, { typ: 'JWT', issuer: ISSUER })).resolves.toBeDefined();
    await expect(jwtVerify(token, secret)).resolves.toBeDefined();
  });

  test('accepts node KeyObjects', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateKey = createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const signer = createJwtSigner({ alg: 'ES256', kid: 'ko', privateKey, verifyKey: createPublicKey(privateKey), publicJwk: null });
    const token = await signer.sign({ iss: ISSUER }, { typ: 'JWT', expiresAt: inSeconds(60) });
    await expect(signer.verify(token, { typ: 'JWT', issuer: ISSUER })).resolves.toBeDefined();
  });
});
