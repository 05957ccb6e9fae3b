// RFC 6749 §2.3.1: client_secret_basic form-urlencodes the client id and secret before base64.
import type { Context } from 'koa';
import { readClientCredentials } from '../../src/oauth/client-auth.js';
import { Params } from '../../src/http/body.js';
import { InvalidClient } from '../../src/domain/errors.js';

const basic = (raw: string) => ({ get: (name: string) => (name.toLowerCase() === 'authorization' ? `Basic ${Buffer.from(raw).toString('base64')}` : '') }) as unknown as Context;
const read = (raw: string) => readClientCredentials(basic(raw), Params.empty());

test.each([
  ['plain', 'my-client:Zm9v_YmFy-4', 'my-client', 'Zm9v_YmFy-4'],
  ['+ is a space', 'my+client:a+b', 'my client', 'a b'],
  ['percent-encoded', 'my%2Bclient:a%3Ab%25c', 'my+client', 'a:b%c'],
  ['both', 'a%20b+c:%2B+', 'a b c', '+ '],
  ['a colon in the secret', 'id:se:cret', 'id', 'se:cret'],
])('%s', (_name, raw, clientId, clientSecret) => {
  expect(read(raw)).toEqual({ clientId, clientSecret, method: 'client_secret_basic' });
});

test('malformed percent-encoding is refused as a malformed header', () => {
  expect(() => read('id:bad%zz')).toThrow(InvalidClient);
  expect(() => read('bad%E0%A4%A:secret')).toThrow(InvalidClient);
});
