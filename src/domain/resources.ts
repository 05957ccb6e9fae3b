// RFC 8707 §2.2: at the token endpoint a client may name only resources its grant covers (what the
// user authorized); naming none means all of them. Used by every grant that has an authorization.
import { InvalidTarget } from './errors.js';
import { scopesOutside } from './scopes.js';

/**
 * RFC 8707 §2: a resource indicator is an absolute URI without a fragment. Whitespace is refused as
 * well: resources are stored space-separated, so "https://a https://b" would be one resource on the
 * consent page and two at the token endpoint. (`new URL` trims and tolerates some spaces, hence the
 * explicit checks.)
 */
export function checkResourceIndicator(value: string): void {
  if (/\s/.test(value)) throw new InvalidTarget('resource must not contain whitespace');
  if (value.includes('#')) throw new InvalidTarget('resource must not contain a fragment');
  if (!URL.canParse(value)) throw new InvalidTarget(`resource must be an absolute URI: "${value}"`);
}

export function selectResources(requested: string[], granted: string[]): string[] {
  const outside = scopesOutside(requested, granted);
  if (outside.length > 0) throw new InvalidTarget(`resource was not granted: ${outside.join(' ')}`);
  return requested.length > 0 ? requested : granted;
}
