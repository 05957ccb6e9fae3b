// Row ids of tokens and audit events (domain/ids.ts): UUID version 7, later ids sort later.
import { timeOrderedId } from '../../src/domain/ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const millisecondsOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('timeOrderedId', () => {
  test('is a version 7 UUID (RFC 9562 §5.7) whose first 48 bits are the time it was made, in ms', () => {
    const before = Date.now();
    const id = timeOrderedId();
    const after = Date.now();
    expect(id).toMatch(V7);
    expect(millisecondsOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisecondsOf(id)).toBeLessThanOrEqual(after);
  });

  test('each id sorts after the one before it, also within one millisecond, and none repeats', () => {
    const ids = Array.from({ length: 20_000 }, () => timeOrderedId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // Far more ids than milliseconds: the order above held between ids of the same millisecond.
    expect(new Set(ids.map(millisecondsOf)).size).toBeLessThan(ids.length);
  });
});
