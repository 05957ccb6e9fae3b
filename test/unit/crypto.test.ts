import { constantTimeEqual, sha256Hex } from '../../src/domain/crypto.js';

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
