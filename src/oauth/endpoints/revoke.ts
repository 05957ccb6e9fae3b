// POST /oauth/revoke (RFC 7009): a client (or whoever holds a token) says it is no longer needed.
import type { Context } from 'koa';
import type { Services } from '../../services/index.js';
import { readOptionallyAuthenticatedTokenRequest } from '../token-request.js';

export function revokeEndpoint(services: Pick<Services, 'clients' | 'revocation'>) {
  return async function revoke(ctx: Context): Promise<void> {
    // §2.1: credentials, when sent, the same way the token endpoint takes them (public clients:
    // client_id only); a request with only `token` (as AuthGate's SDKs send it) is accepted too.
    const { client, token, hint, req } = await readOptionallyAuthenticatedTokenRequest(ctx, services);
    await services.revocation.revokeToken(token, client, hint, req);
    // §2.2: 200 whether or not anything was revoked (unknown, already revoked, another client's), so
    // the answer tells the caller nothing about tokens that are not its own.
    ctx.status = 200;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = '';
  };
}
