// RFC 8707 §2: `resource` may repeat; each must be an absolute URI without a fragment.
import { checkResourceIndicator } from '../domain/resources.js';
import type { Params } from '../http/body.js';

export function readResources(params: Params): string[] {
  const values = params.all('resource').filter((v) => v !== '');
  for (const value of values) checkResourceIndicator(value);
  return [...new Set(values)];
}
