// Page sizes for every connection. Pothos clamps `first` to a maximum silently; a client asking for
// more than it can have is told so instead (BAD_USER_INPUT), so nobody mistakes a capped page for all rows.
import { BadInput } from '../domain/errors.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Pass as `maxSize` of a connection: validates first/last and returns the cap. */
export function checkedPageSize(args: { first?: number | null; last?: number | null }): number {
  for (const [name, value] of [
    ['first', args.first],
    ['last', args.last],
  ] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) throw new BadInput(`${name} must be between 0 and ${MAX_PAGE_SIZE}, got ${value}`);
  }
  return MAX_PAGE_SIZE;
}

/** The options every connection shares. */
export const PAGE = { maxSize: checkedPageSize, defaultSize: DEFAULT_PAGE_SIZE } as const;
