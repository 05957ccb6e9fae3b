// POST /oauth/revoke (RFC 7009): a client says it no longer needs a token.
import type { Context } from 'koa';
import { InvalidRequest } from '../../domain/errors.js';
import { requestInfo } from '../../http/request-info.js';
import type { Services } from '../../services/index.js';
import { parseTokenTypeHint } from '../../services/revocation.js';
import { readClientCredentials } from '../client-auth.js';

export function revokeEndpoint(services: Services) {
  return async function revoke(ctx: Context): Promise<void> {
    const params = ctx.state.body!;
    const req = requestInfo(ctx);
    // §2.1: credentials first, the same way the token endpoint takes them (public clients: client_id only).
    const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
    const token = params.optional('token');
    if (!token) throw new InvalidRequest('token is required');
    const hint = parseTokenTypeHint(params.optional('token_type_hint'));
    await services.revocation.revokeToken(token, client, hint, req);
    // §2.2: 200 whether or not anything was revoked (unknown, already revoked, another client's), so
    // the answer tells the caller nothing about tokens that are not its own.
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
  };
}
