// RFC 8628 §6.1: user codes are typed by people, so they use an alphabet without vowels
// (no accidental words) and without look-alike characters (0/O, 1/I/L, 5/S, 2/Z, 8/B...):
// the base-20 consonant set the RFC suggests. 8 characters give 20^8 ≈ 2.56e10 codes; with a short
// lifetime and slowed guessing that keeps brute force impractical.
import { randomInt } from 'node:crypto';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

/** The stored, canonical form: 8 upper-case characters, no separator. */
export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** What the user reads: XXXX-XXXX. */
export function displayUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Case-insensitive; dashes and whitespace ignored. Returns null when it cannot be a user code. */
export function normalizeUserCode(input: string): string | null {
  const code = input.replace(/[\s-]/g, '').toUpperCase();
  if (code.length !== LENGTH) return null;
  for (const ch of code) if (!ALPHABET.includes(ch)) return null;
  return code;
}
