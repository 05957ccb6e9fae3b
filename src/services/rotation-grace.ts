// Refresh rotation grace window: a client whose refresh response was lost (network retry) presents the
// old token again and gets the same successor back instead of having its family revoked as stolen.
//
// The database keeps only hashes of token values, so the successor's response cannot be rebuilt from
// it. Instead it is sealed (AES-256-GCM) under a key derived (HKDF-SHA256) from the OLD token's value,
// which only its holder has: the stored ciphertext is useless to anyone reading the database, and it is
// cleared when the window ends. node:crypto does both primitives; a library would add nothing.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { TokenSet } from './tokens.js';

const INFO = 'authgate refresh-rotation-grace v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function keyFor(oldTokenValue: string, oldTokenId: string): Buffer {
  // The row id as salt binds the key to this row, so a sealed value copied onto another row cannot be opened there.
  return Buffer.from(hkdfSync('sha256', oldTokenValue, oldTokenId, INFO, 32));
}

/** Seals the successor response for the holder of `oldTokenValue`; base64url(iv | tag | ciphertext). */
export function sealSuccessor(response: TokenSet, oldTokenValue: string, oldTokenId: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyFor(oldTokenValue, oldTokenId), iv);
  cipher.setAAD(Buffer.from(oldTokenId));
  const body = Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** Opens what sealSuccessor produced; null if it was not sealed for this token (or was tampered with). */
export function openSuccessor(sealed: string, oldTokenValue: string, oldTokenId: string): TokenSet | null {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', keyFor(oldTokenValue, oldTokenId), raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(oldTokenId));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as TokenSet;
  } catch {
    return null;
  }
}
