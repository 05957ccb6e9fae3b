// RFC 8628 §3.4: the device polls with its device_code.
import { InvalidRequest } from '../../domain/errors.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../domain/grant-types.js';
import { readResources } from '../resources.js';
import type { GrantHandler } from './grant.js';

export const deviceCodeGrant: GrantHandler = {
  grantType: DEVICE_CODE_GRANT_TYPE,
  parameters: ['device_code', 'resource'],
  async handle({ client, params, services, req }) {
    const deviceCode = params.optional('device_code');
    if (!deviceCode) throw new InvalidRequest('device_code is required');
    return services.deviceCodes.exchange(deviceCode, client, readResources(params), req);
  },
};
