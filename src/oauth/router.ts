// The protocol face's routes: RFC-shaped JSON in and out (errors rendered by respond.ts' oauthErrors).
import Router from '@koa/router';
import type { Config } from '../config/env.js';
import type { JwtSigner } from '../keys/jwt.js';
import type { Services } from '../services/index.js';
import { deviceAuthorizationEndpoint } from './endpoints/device-authorization.js';
import { discoveryEndpoint, serverMetadata } from './endpoints/discovery.js';
import { introspectEndpoint } from './endpoints/introspect.js';
import { jwksEndpoint } from './endpoints/jwks.js';
import { registrationEndpoint } from './endpoints/register.js';
import { revokeEndpoint } from './endpoints/revoke.js';
import { tokenEndpoint } from './endpoints/token.js';
import { tokenInfoEndpoint } from './endpoints/tokeninfo.js';
import { userInfoEndpoint } from './endpoints/userinfo.js';
import { grants } from './grants/index.js';

export function oauthRouter(deps: { config: Config; services: Services; signer: JwtSigner }): Router {
  const { config, services, signer } = deps;
  const router = new Router();
  const metadata = serverMetadata(config, grants);
  router.get('/.well-known/openid-configuration', discoveryEndpoint(metadata));
  router.get('/.well-known/oauth-authorization-server', discoveryEndpoint(metadata));
  router.get('/.well-known/jwks.json', jwksEndpoint(signer));
  router.post('/oauth/device/code', deviceAuthorizationEndpoint(services));
  // Not mounted at all when off, so the path is an ordinary 404 rather than a refusal.
  if (config.dynamicRegistration.enabled) router.post('/oauth/register', registrationEndpoint(services));
  router.post('/oauth/token', tokenEndpoint(services, grants));
  router.get('/oauth/tokeninfo', tokenInfoEndpoint(services));
  router.post('/oauth/tokeninfo', tokenInfoEndpoint(services));
  router.get('/oauth/userinfo', userInfoEndpoint(services));
  router.post('/oauth/userinfo', userInfoEndpoint(services));
  router.post('/oauth/revoke', revokeEndpoint(services));
  router.post('/oauth/introspect', introspectEndpoint(services));
  return router;
}
