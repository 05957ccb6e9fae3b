// Where the client's credentials come from (RFC 6749 §2.3.1): an HTTP Basic header
// (client_secret_basic), form fields (client_secret_post), or client_id alone for public clients.
// Using more than one method in a request is an error.
import type { Context } from 'koa';
import { hasControlCharacters } from '../domain/control-characters.js';
import { InvalidClient, InvalidRequest } from '../domain/errors.js';
import type { Params } from '../http/body.js';
import type { ClientCredentials } from '../services/clients.js';

export function readClientCredentials(ctx: Context, body: Params): ClientCredentials {
  const header = ctx.get('authorization');
  const bodyId = body.optional('client_id');
  const bodySecret = body.get('client_secret');
  if (header && /^basic /i.test(header)) {
    if (bodySecret !== undefined) throw new InvalidRequest('use only one client authentication method');
    const basic = decodeBasic(header.slice(6).trim());
    if (bodyId !== undefined && bodyId !== basic.clientId) throw new InvalidRequest('client_id does not match the Authorization header');
    return { clientId: basic.clientId, clientSecret: basic.clientSecret, method: 'client_secret_basic' };
  }
  if (!bodyId) throw new InvalidClient('client authentication is required (client_id missing)');
  if (bodySecret !== undefined) return { clientId: bodyId, clientSecret: bodySecret, method: 'client_secret_post' };
  return { clientId: bodyId, method: 'none' };
}

/**
 * For endpoints where client authentication is optional (revocation): undefined when the request
 * carries no client credentials at all (no Basic header, no client_id, no client_secret; another kind
 * of Authorization header, such as a Bearer token, is not client authentication). Anything that looks
 * like an attempt to authenticate is read as above, so a wrong attempt still fails.
 */
export function readOptionalClientCredentials(ctx: Context, body: Params): ClientCredentials | undefined {
  const basic = /^basic /i.test(ctx.get('authorization'));
  if (!basic && body.optional('client_id') === undefined && body.get('client_secret') === undefined) return undefined;
  return readClientCredentials(ctx, body);
}

// Most credentials hold neither '+' nor '%' (generated ids and base64url secrets): those are returned
// as they are, which is what the decoding would give, without the two passes over them.
const formDecode = (part: string) => (part.includes('%') || part.includes('+') ? decodeURIComponent(part.replace(/\+/g, ' ')) : part);

function decodeBasic(encoded: string): { clientId: string; clientSecret: string } {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new InvalidClient('malformed Basic authorization header');
  let credentials: { clientId: string; clientSecret: string };
  try {
    // The RFC form-urlencodes both parts before base64 (§2.3.1).
    credentials = { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    throw new InvalidClient('malformed Basic authorization header');
  }
  // Base64 and percent-encoding can carry any byte past the body layer's screening; the same rule
  // applies to credentials as to every other parameter.
  if (hasControlCharacters(credentials.clientId) || hasControlCharacters(credentials.clientSecret)) {
    throw new InvalidRequest('client credentials must not contain control characters');
  }
  return credentials;
}
