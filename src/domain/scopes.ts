// Scopes travel as space-delimited strings (RFC 6749 §3.3) and are stored the same way.
import { InvalidScope } from './errors.js';

// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )  (RFC 6749 §3.3)
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScope(text: string | undefined): string[] {
  if (text === undefined) return [];
  const tokens = text.split(' ').filter((t) => t !== '');
  for (const token of tokens) {
    if (!SCOPE_TOKEN.test(token)) throw new InvalidScope(`scope contains an invalid character: "${token}"`);
  }
  return [...new Set(tokens)];
}

export function formatScope(scopes: Iterable<string>): string {
  return [...new Set(scopes)].join(' ');
}

/** The scopes in `requested` that are not in `allowed`. */
export function scopesOutside(requested: string[], allowed: string[]): string[] {
  const allowedSet = new Set(allowed);
  return requested.filter((s) => !allowedSet.has(s));
}

/** Throws invalid_scope when anything requested is outside what is allowed. */
export function requireScopesWithin(requested: string[], allowed: string[], what: string): void {
  const extra = scopesOutside(requested, allowed);
  if (extra.length > 0) throw new InvalidScope(`${what}: ${extra.join(' ')}`);
}
