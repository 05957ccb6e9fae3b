import { authorizationCodeGrant } from './authorization-code.js';
import { clientCredentialsGrant } from './client-credentials.js';
import { deviceCodeGrant } from './device-code.js';
import type { GrantHandler } from './grant.js';
import { refreshTokenGrant } from './refresh-token.js';

export const grants: readonly GrantHandler[] = [authorizationCodeGrant, deviceCodeGrant, refreshTokenGrant, clientCredentialsGrant];
export type { GrantHandler } from './grant.js';
