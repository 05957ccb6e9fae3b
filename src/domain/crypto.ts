import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random value with `bytes` bytes of entropy (tokens, codes, ids sent to clients). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Token values are stored and looked up only by this hash, never in clear. crypto.hash is the one-shot
 * form (no Hash object): about half the cost of createHash for a token-sized value, and the token
 * endpoints hash two to four values a request.
 */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/**
 * Compares secrets without leaking where they differ. Only a difference in length shows (as it always
 * did): equal-length values, the usual case (digests, tokens of one format), are compared as they are;
 * values of different lengths are hashed first so the comparison still takes its usual time.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ba.length === bb.length) return timingSafeEqual(ba, bb);
  timingSafeEqual(createHash('sha256').update(ba).digest(), createHash('sha256').update(bb).digest());
  return false;
}
