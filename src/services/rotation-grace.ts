// Refresh rotation grace window: a client whose refresh response was lost (network retry) presents the
// old token again and gets the same successor back instead of having its family revoked as stolen.
// The window is judged by when the retry was presented (services/tokens.ts), so a retry that waited on
// a busy server is still a retry.
//
// The database keeps only hashes of token values, so the successor's response cannot be rebuilt from
// it. Instead it is sealed (domain/seal.ts) under the OLD token's value, which only its holder has: the
// stored ciphertext is useless to anyone reading the database, and it is cleared when the window ends.
import { seal, unseal } from '../domain/seal.js';
import type { TokenSet } from './tokens.js';

const INFO = 'authgate refresh-rotation-grace v1';

// The row id is the salt (and additional data), so a sealed value copied onto another row cannot be opened there.

/** Seals the successor response for the holder of `oldTokenValue`. */
export function sealSuccessor(response: TokenSet, oldTokenValue: string, oldTokenId: string): string {
  return seal(JSON.stringify(response), oldTokenValue, oldTokenId, INFO);
}

/** Opens what sealSuccessor produced; null if it was not sealed for this token (or was tampered with). */
export function openSuccessor(sealed: string, oldTokenValue: string, oldTokenId: string): TokenSet | null {
  const text = unseal(sealed, oldTokenValue, oldTokenId, INFO);
  return text === null ? null : (JSON.parse(text) as TokenSet);
}
