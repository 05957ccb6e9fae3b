// Which part of a client's address the per-address limits count by (the request limits of
// http/rate-limit.ts and the guessing limits of services/attempt-policy.ts).
//
// An IPv4 address is one subscriber's (or one NAT's) address. An IPv6 address is not: a subscriber is
// routed at least a /64 (RFC 6177, RFC 7421), and picks addresses inside it at will (temporary
// addresses, RFC 8981), so counting per full IPv6 address would hand anyone 2^64 fresh budgets. IPv6
// addresses are therefore counted by their /64 prefix, as the address of one network. An IPv4 address
// written in IPv6 (::ffff:192.0.2.1, as a dual-stack socket reports an IPv4 peer) is the IPv4 address
// it is, so both spellings share one budget. The audit log keeps the full address; only the key changes.
//
// Hand-written because Node has no IPv6 prefix helper (net.BlockList checks membership; it does not
// name a prefix) and the parsing needed after net.isIP's validation is a few lines.
import { isIP } from 'node:net';

/** The limit key part for an address: IPv4 as given, IPv6 as `<first four groups>::/64`; anything else unchanged. */
export function limitAddress(ip: string): string {
  const zoneless = ip.split('%', 1)[0]!; // a link-local zone (fe80::1%eth0) names an interface, not a host
  if (isIP(zoneless) !== 6) return ip;
  const groups = ipv6Groups(zoneless);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (net.isIP said so), `::` and a dotted IPv4 tail expanded. */
function ipv6Groups(ip: string): number[] {
  let text = ip.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const first = parse(head);
  if (tail === undefined) return first;
  const last = parse(tail);
  return [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
}
