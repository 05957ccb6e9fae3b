// POST /oauth/token (RFC 6749 §3.2): authenticate the client, pick the grant, render the result.
import type { Context } from 'koa';
import { InvalidRequest, UnsupportedGrantType } from '../../domain/errors.js';
import { requestInfo } from '../../http/request-info.js';
import type { Services } from '../../services/index.js';
import { readClientCredentials } from '../client-auth.js';
import { sendJson } from '../respond.js';
import { tokenResponse } from '../token-response.js';
import type { GrantHandler, GrantServices } from '../grants/grant.js';

export function tokenEndpoint(services: GrantServices & Pick<Services, 'clients'>, grants: readonly GrantHandler[]) {
  const byType = new Map(grants.map((g) => [g.grantType, g]));
  return async function token(ctx: Context): Promise<void> {
    const params = ctx.state.body!;
    const grantType = params.optional('grant_type');
    if (!grantType) throw new InvalidRequest('grant_type is required');
    const grant = byType.get(grantType);
    if (!grant) throw new UnsupportedGrantType(`grant_type "${grantType}" is not supported`);
    // RFC 6749 §3.1: parameters must not repeat (RFC 8707 `resource` is the one that may).
    for (const name of grant.parameters) if (name !== 'resource') params.get(name);
    const req = requestInfo(ctx);
    const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
    sendJson(ctx, tokenResponse(await grant.handle({ client, params, services, req })));
  };
}
