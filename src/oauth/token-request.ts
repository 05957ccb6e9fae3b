// The shared front of the revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints:
// client credentials first (optional for revocation), then `token` and an optional `token_type_hint`.
import type { Context } from 'koa';
import type { OAuthClient } from '../db/client.js';
import { InvalidRequest } from '../domain/errors.js';
import type { Params } from '../http/body.js';
import { requestInfo } from '../http/request-info.js';
import type { Services } from '../services/index.js';
import type { RequestInfo } from '../services/request-context.js';
import { parseTokenTypeHint, type TokenTypeHint } from '../services/revocation.js';
import { readClientCredentials, readOptionalClientCredentials } from './client-auth.js';

export async function readTokenRequest(
  ctx: Context,
  services: Pick<Services, 'clients'>,
): Promise<{ client: OAuthClient; token: string; hint: TokenTypeHint | undefined; req: RequestInfo }> {
  const params = ctx.state.body!;
  const req = requestInfo(ctx);
  const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
  return { client, ...readToken(params), req };
}

/**
 * The revocation endpoint's variant: client authentication is optional (RFC 7009 §2.1 leaves it to the
 * server; AuthGate's SDKs send only the token). `client` is null when the request carried no
 * credentials; credentials that are present must authenticate.
 */
export async function readOptionallyAuthenticatedTokenRequest(
  ctx: Context,
  services: Pick<Services, 'clients'>,
): Promise<{ client: OAuthClient | null; token: string; hint: TokenTypeHint | undefined; req: RequestInfo }> {
  const params = ctx.state.body!;
  const req = requestInfo(ctx);
  const credentials = readOptionalClientCredentials(ctx, params);
  const client = credentials ? await services.clients.authenticate(credentials, req) : null;
  return { client, ...readToken(params), req };
}

function readToken(params: Params): { token: string; hint: TokenTypeHint | undefined } {
  const token = params.optional('token');
  if (!token) throw new InvalidRequest('token is required');
  return { token, hint: parseTokenTypeHint(params.optional('token_type_hint')) };
}
