import { constantTimeEqual, sha256Hex } from '../../src/domain/crypto.js';
import { createHash } from 'node:crypto';

test('constantTimeEqual: equal values are equal, any difference is not', () => {
  const digest = sha256Hex('secret');
  expect(constantTimeEqual(digest, sha256Hex('secret'))).toBe(true);
  expect(constantTimeEqual(digest, sha256Hex('secreT'))).toBe(false);
  expect(constantTimeEqual('', '')).toBe(true);
  // Different lengths (including a prefix, and the empty string) never compare equal.
  expect(constantTimeEqual(digest, digest.slice(0, 63))).toBe(false);
  expect(constantTimeEqual(digest, '')).toBe(false);
  expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  // Same number of characters, different bytes.
  expect(constantTimeEqual('é', 'e')).toBe(false);
  expect(constantTimeEqual('aé', 'éa')).toBe(false);
  expect(constantTimeEqual('état', 'état')).toBe(true);
});

test('sha256Hex is SHA-256 of the UTF-8 bytes, in lowercase hex (what stored token hashes were made with)', () => {
  expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  expect(sha256Hex('tökén ✓')).toBe(createHash('sha256').update(Buffer.from('tökén ✓', 'utf8')).digest('hex'));
});
