// The address key of the per-address limits (domain/addresses.ts): IPv4 as is, IPv6 by its /64,
// IPv4-mapped IPv6 as the IPv4 address.
import { limitAddress } from '../../src/domain/addresses.js';

describe('limitAddress', () => {
  test.each([
    ['192.0.2.1', '192.0.2.1'],
    ['10.0.0.255', '10.0.0.255'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:ffff::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['::', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['2001:db8:1:2::', '2001:db8:1:2::/64'],
  ])('%s → %s', (ip, key) => {
    expect(limitAddress(ip)).toBe(key);
  });

  test('every address of one /64 has one key; the next /64 another', () => {
    const keys = new Set(['2001:db8:aa:1::1', '2001:db8:aa:1:ffff:ffff:ffff:ffff', '2001:db8:aa:1:1234::abcd', '2001:db8:00aa:0001::9'].map(limitAddress));
    expect([...keys]).toEqual(['2001:db8:aa:1::/64']);
    expect(limitAddress('2001:db8:aa:2::1')).not.toBe(limitAddress('2001:db8:aa:1::1'));
  });

  test('what is not an IP address is left as it is', () => {
    for (const text of ['unknown', '', 'localhost', '1.2.3', '2001:db8::1::2', 'not:an:address']) expect(limitAddress(text)).toBe(text);
  });
});
