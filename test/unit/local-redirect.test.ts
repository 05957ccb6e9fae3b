// The post-login redirect target is judged after parsing and normalization, the way a browser reads it.
import { safeLocalPath } from '../../src/web/local-redirect.js';

describe('safeLocalPath', () => {
  test.each([
    ['/device?user_code=ABCD-EFGH', '/device?user_code=ABCD-EFGH'],
    ['/oauth/authorize?client_id=a&redirect_uri=https%3A%2F%2Fapp.example%2Fcb', '/oauth/authorize?client_id=a&redirect_uri=https%3A%2F%2Fapp.example%2Fcb'],
    ['/./account', '/account'],
    ['/a/b/../c', '/a/c'],
    ['/account#section', '/account'],
    // Encoded slashes and backslashes stay encoded: a path segment, not a host.
    ['/%2f/evil.com', '/%2f/evil.com'],
    ['/%5c/evil.com', '/%5c/evil.com'],
  ])('keeps the local path %j as %j', (target, expected) => {
    expect(safeLocalPath(target)).toBe(expected);
  });

  test.each([
    undefined,
    '',
    '//evil.com',
    '/.//evil.com',
    '/..//evil.com',
    '/%2e//evil.com',
    '/%2E%2e//evil.com',
    '/a/..//evil.com',
    '/a/../..//evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    '/\t/evil.com',
    '/\n/evil.com',
    '/\u0000/x',
    '%2f%2fevil.com',
    'https://evil.com/',
    'evil.com',
    'javascript:alert(1)',
  ])('sends %j home instead', (target) => {
    expect(safeLocalPath(target)).toBe('/');
  });
});
