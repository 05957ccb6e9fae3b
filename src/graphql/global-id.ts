// Global IDs are relay's base64("Type:id"). Decoding is ours only to turn a malformed one into the
// API's BAD_USER_INPUT instead of the plugin's generic validation error.
import { BadInput } from '../domain/errors.js';

export function decodeGlobalId(globalID: string): { typename: string; id: string } {
  const text = Buffer.from(globalID, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  // Round-tripping rejects strings that are not base64 at all (Buffer.from ignores bad characters).
  if (colon <= 0 || colon === text.length - 1 || Buffer.from(text, 'utf8').toString('base64') !== globalID) {
    throw new BadInput(`"${globalID.slice(0, 100)}" is not a valid ID`);
  }
  return { typename: text.slice(0, colon), id: text.slice(colon + 1) };
}

/** The global ID of a database row of `typename` (what the API returns as `id`). */
export function encodeGlobalId(typename: string, id: string): string {
  return Buffer.from(`${typename}:${id}`, 'utf8').toString('base64');
}
