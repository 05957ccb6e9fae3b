// POST /oauth/revoke (RFC 7009): a client says it no longer needs a token.
import type { Context } from 'koa';
import type { Services } from '../../services/index.js';
import { readTokenRequest } from '../token-request.js';

export function revokeEndpoint(services: Pick<Services, 'clients' | 'revocation'>) {
  return async function revoke(ctx: Context): Promise<void> {
    // §2.1: credentials first, the same way the token endpoint takes them (public clients: client_id only).
    const { client, token, hint, req } = await readTokenRequest(ctx, services);
    await services.revocation.revokeToken(token, client, hint, req);
    // §2.2: 200 whether or not anything was revoked (unknown, already revoked, another client's), so
    // the answer tells the caller nothing about tokens that are not its own.
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
  };
}
