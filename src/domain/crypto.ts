import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A URL-safe random value with `bytes` bytes of entropy (tokens, codes, ids sent to clients). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Token values are stored and looked up only by this hash, never in clear. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compares secrets without leaking where they differ; hashing first makes the lengths equal. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
