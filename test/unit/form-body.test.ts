// A form body's pairs (http/body.ts formEntries): exactly what URLSearchParams gives, whichever way
// they were read.
import { formEntries } from '../../src/http/body.js';

const pairs = (text: string) => [...formEntries(text)];
const reference = (text: string) => [...new URLSearchParams(text)];

test.each([
  '',
  'grant_type=client_credentials',
  'token=eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&token_type_hint=access_token',
  'a=1&&b=2&',
  '&a',
  'a==b=c',
  '=value',
  'name=',
  'a=1&a=2',
  'scope=read+write',
  'redirect_uri=https%3A%2F%2Fapp.example%2Fcb',
  'bad=%zz',
  '?a=1',
  'a=?',
  'ünïcode=välue&emoji=😀',
])('%j: the same pairs as URLSearchParams', (text) => {
  expect(pairs(text)).toEqual(reference(text));
});

test('random bodies over the characters that matter give the same pairs as URLSearchParams', () => {
  const alphabet = ['a', 'b', '=', '&', '?', '%', '+', '2', '0', 'é', ' ', '.'];
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let i = 0; i < 5_000; i++) {
    const text = Array.from({ length: next() % 12 }, () => alphabet[next() % alphabet.length]).join('');
    expect(pairs(text)).toEqual(reference(text));
  }
});
