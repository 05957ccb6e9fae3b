// RFC 8707 §2.2: at the token endpoint a client may name only resources its grant covers (what the
// user authorized); naming none means all of them. Used by every grant that has an authorization.
import { InvalidTarget } from './errors.js';
import { scopesOutside } from './scopes.js';

export function selectResources(requested: string[], granted: string[]): string[] {
  const outside = scopesOutside(requested, granted);
  if (outside.length > 0) throw new InvalidTarget(`resource was not granted: ${outside.join(' ')}`);
  return requested.length > 0 ? requested : granted;
}
