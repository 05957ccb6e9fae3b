import { deviceCodeGrant } from './device-code.js';
import type { GrantHandler } from './grant.js';
import { refreshTokenGrant } from './refresh-token.js';

export const grants: readonly GrantHandler[] = [deviceCodeGrant, refreshTokenGrant];
export type { GrantHandler } from './grant.js';
