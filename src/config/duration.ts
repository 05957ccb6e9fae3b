// Durations are written the way AuthGate (a Go server) documents them: Go duration strings
// such as "10h", "30m", "1h30m", "720h", "90s". A bare integer is read as seconds.
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Parses a duration to whole seconds; returns null when the text is not a duration. */
export function parseDurationSeconds(text: string): number | null {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value);
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return null;
  let total = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  return Math.round(total);
}

/** Parses a duration to whole milliseconds ("500ms", "1s", "1m30s"); a bare integer is seconds. Null when not a duration. */
export function parseDurationMilliseconds(text: string): number | null {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return null;
  let total = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_SECONDS[unit!]! * 1000;
  }
  return Math.round(total);
}
