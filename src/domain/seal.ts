// Sealing a value for whoever holds a secret the server does not keep (a token's value, a browser's
// session cookie): AES-256-GCM under a key derived with HKDF-SHA256 from that secret. What is stored
// next to the hash of the secret is useless to someone reading the database. node:crypto does both
// primitives; a library would add nothing.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFor(secret: string, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, salt, info, 32));
}

/** base64url(iv | tag | ciphertext); `salt` is also the additional data, binding the result to it. */
export function seal(plaintext: string, secret: string, salt: string, info: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secret, salt, info), iv);
  cipher.setAAD(Buffer.from(salt));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** What `seal` sealed; null if it was sealed under another secret, salt or purpose, or tampered with. */
export function unseal(sealed: string, secret: string, salt: string, info: string): string | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secret, salt, info), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(salt));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
