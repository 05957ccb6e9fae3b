// PKCE (RFC 7636). Only S256: `plain` sends the verifier's equivalent in the front channel, which
// defeats the point (OAuth 2.1 / RFC 9700 §2.1.1 drop it too).
import { createHash } from 'node:crypto';
import { InvalidGrant, InvalidRequest } from './errors.js';
import { constantTimeEqual } from './crypto.js';

// code-verifier = 43*128unreserved (RFC 7636 §4.1); S256 challenges are 43 base64url characters.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function validateChallenge(challenge: string | undefined, method: string | undefined): { challenge: string; method: 'S256' } | null {
  if (challenge === undefined) {
    if (method !== undefined) throw new InvalidRequest('code_challenge_method given without code_challenge');
    return null;
  }
  if ((method ?? 'plain') !== 'S256') throw new InvalidRequest('only code_challenge_method=S256 is supported');
  if (!S256_CHALLENGE.test(challenge)) throw new InvalidRequest('code_challenge must be a base64url SHA-256 value (43 characters)');
  return { challenge, method: 'S256' };
}

export function verifyCodeVerifier(verifier: string | undefined, challenge: string): void {
  if (verifier === undefined) throw new InvalidGrant('code_verifier is required');
  if (!VERIFIER.test(verifier)) throw new InvalidGrant('code_verifier is malformed');
  const computed = createHash('sha256').update(verifier).digest('base64url');
  if (!constantTimeEqual(computed, challenge)) throw new InvalidGrant('code_verifier does not match the code_challenge');
}
