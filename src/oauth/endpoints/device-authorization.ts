// POST /oauth/device/code (RFC 8628 §3.1).
import type { Context } from 'koa';
import { requestInfo } from '../../http/request-info.js';
import type { Services } from '../../services/index.js';
import { readClientCredentials } from '../client-auth.js';
import { readResources } from '../resources.js';
import { sendJson } from '../respond.js';

export function deviceAuthorizationEndpoint(services: Services) {
  return async function deviceAuthorization(ctx: Context): Promise<void> {
    const params = ctx.state.body!;
    const req = requestInfo(ctx);
    const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
    sendJson(ctx, await services.deviceCodes.authorize(client, params.optional('scope'), readResources(params), req));
  };
}
