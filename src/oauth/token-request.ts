// The shared front of the revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints:
// client credentials first, then `token` and an optional `token_type_hint`.
import type { Context } from 'koa';
import type { OAuthClient } from '../db/client.js';
import { InvalidRequest } from '../domain/errors.js';
import { requestInfo } from '../http/request-info.js';
import type { Services } from '../services/index.js';
import type { RequestInfo } from '../services/request-context.js';
import { parseTokenTypeHint, type TokenTypeHint } from '../services/revocation.js';
import { readClientCredentials } from './client-auth.js';

export async function readTokenRequest(
  ctx: Context,
  services: Pick<Services, 'clients'>,
): Promise<{ client: OAuthClient; token: string; hint: TokenTypeHint | undefined; req: RequestInfo }> {
  const params = ctx.state.body!;
  const req = requestInfo(ctx);
  const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
  const token = params.optional('token');
  if (!token) throw new InvalidRequest('token is required');
  return { client, token, hint: parseTokenTypeHint(params.optional('token_type_hint')), req };
}
