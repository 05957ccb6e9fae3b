// RFC 8707 §2: `resource` may repeat; each must be an absolute URI without a fragment.
import { InvalidTarget } from '../domain/errors.js';
import type { Params } from '../http/body.js';

export function readResources(params: Params): string[] {
  const values = params.all('resource').filter((v) => v !== '');
  for (const value of values) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new InvalidTarget(`resource must be an absolute URI: "${value}"`);
    }
    if (url.hash || value.includes('#')) throw new InvalidTarget('resource must not contain a fragment');
  }
  return [...new Set(values)];
}
