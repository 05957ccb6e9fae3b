// POST /oauth/device/code (RFC 8628 §3.1).
import type { Context } from 'koa';
import { requestInfo } from '../../http/request-info.js';
import type { Config } from '../../config/env.js';
import type { Services } from '../../services/index.js';
import { DEVICE_VERIFICATION_PATH } from '../../web/device.js';
import { readClientCredentials } from '../client-auth.js';
import { readResources } from '../resources.js';
import { sendJson } from '../respond.js';

export function deviceAuthorizationEndpoint(services: Pick<Services, 'clients' | 'deviceCodes'>, config: Pick<Config, 'baseUrl'>) {
  // RFC 8628 §3.2: where the person enters the code is a page of the HTML face.
  const verificationUri = `${config.baseUrl}${DEVICE_VERIFICATION_PATH}`;
  return async function deviceAuthorization(ctx: Context): Promise<void> {
    const params = ctx.state.body!;
    const req = requestInfo(ctx);
    const client = await services.clients.authenticate(readClientCredentials(ctx, params), req);
    const device = await services.deviceCodes.authorize(client, params.optional('scope'), readResources(params), req);
    sendJson(ctx, {
      device_code: device.deviceCode,
      user_code: device.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(device.userCode)}`,
      expires_in: device.expiresIn,
      interval: device.interval,
    });
  };
}
