// POST /oauth/introspect (RFC 7662): lets a resource server (registered as a confidential client)
// ask whether a token is active and what it grants.
import type { Context } from 'koa';
import { InvalidRequest } from '../../domain/errors.js';
import { requestInfo } from '../../http/request-info.js';
import type { Services } from '../../services/index.js';
import { parseTokenTypeHint } from '../../services/revocation.js';
import { readClientCredentials } from '../client-auth.js';
import { sendJson } from '../respond.js';

export function introspectEndpoint(services: Services) {
  return async function introspect(ctx: Context): Promise<void> {
    const params = ctx.state.body!;
    const req = requestInfo(ctx);
    const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
    const token = params.optional('token');
    if (!token) throw new InvalidRequest('token is required');
    const hint = parseTokenTypeHint(params.optional('token_type_hint'));
    // Any authenticated confidential client may introspect any token (see IntrospectionService).
    // sendJson adds Cache-Control: no-store; §4 asks that answers not be cached beyond the token's state.
    sendJson(ctx, await services.introspection.introspect(token, client, hint, req));
  };
}
