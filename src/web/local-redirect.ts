// After login we send the user back where they came from, but only to a path on this server. The
// target is parsed first and the decision is made on the parsed, normalized result, because that is
// what the browser will act on: "/.//evil.com", "/%2e//evil.com" or "/a/..//evil.com" look local as
// strings but normalize to "//evil.com", which a browser reads as another host. Anything doubtful
// falls back to "/".
import { hasControlCharacters } from '../domain/control-characters.js';

// Only used to resolve against; never shown or fetched.
const SITE = 'http://local.invalid';

export function safeLocalPath(target: string | undefined): string {
  if (!target) return '/';
  // Refused before parsing: the URL parser drops tabs and newlines and turns "\" into "/", so what it
  // resolves could differ from what another parser (a proxy, an older browser) would read.
  if (!target.startsWith('/') || target.includes('\\') || hasControlCharacters(target)) return '/';
  let resolved: URL;
  try {
    resolved = new URL(target, SITE);
  } catch {
    return '/';
  }
  if (resolved.origin !== SITE) return '/';
  const path = resolved.pathname + resolved.search;
  // The normalized path must itself read as a path, not as scheme-relative "//host". Percent-encoded
  // slashes and backslashes ("/%2f/", "/%5c/") stay encoded, and browsers do not decode them in Location.
  if (!path.startsWith('/') || path.startsWith('//')) return '/';
  // Resolving the answer again must give the same place: no second round of normalization left.
  const again = new URL(path, SITE);
  if (again.origin !== SITE || again.pathname + again.search !== path) return '/';
  return path;
}
