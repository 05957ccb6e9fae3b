// POST /oauth/introspect (RFC 7662): lets a resource server (registered as a confidential client)
// ask whether a token is active and what it grants.
import type { Context } from 'koa';
import type { Services } from '../../services/index.js';
import { sendJson } from '../respond.js';
import { readTokenRequest } from '../token-request.js';

export function introspectEndpoint(services: Pick<Services, 'clients' | 'introspection'>) {
  return async function introspect(ctx: Context): Promise<void> {
    const { client, token, hint, req } = await readTokenRequest(ctx, services);
    // Any authenticated confidential client may introspect any token (see IntrospectionService).
    // sendJson adds Cache-Control: no-store; §4 asks that answers not be cached beyond the token's state.
    sendJson(ctx, await services.introspection.introspect(token, client, hint, req));
  };
}
