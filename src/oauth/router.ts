// The protocol face's routes: RFC-shaped JSON in and out (errors rendered by respond.ts' oauthErrors).
import Router from '@koa/router';
import type { Config } from '../config/env.js';
import { rateLimit } from '../http/rate-limit.js';
import type { LimitStore } from '../ops/attempt-limiter.js';
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

export function oauthRouter(deps: { config: Config; services: Services; signer: JwtSigner; limits: LimitStore }): Router {
  const { config, services, signer, limits } = deps;
  const limit = (name: string, max: number, durationMs: number) =>
    rateLimit(max === 0 ? undefined : limits.limiter(`ratelimit:${name}`, { points: max, windowSeconds: durationMs / 1000 }));
  const router = new Router();
  const metadata = serverMetadata(config, grants);
  router.get('/.well-known/openid-configuration', discoveryEndpoint(metadata));
  router.get('/.well-known/oauth-authorization-server', discoveryEndpoint(metadata));
  router.get('/.well-known/jwks.json', jwksEndpoint(signer));
  // Unauthenticated for public clients and each call stores a row: limited per address.
  router.post('/oauth/device/code', limit('device_code', config.rateLimits.deviceCodePerMinute, 60_000), deviceAuthorizationEndpoint(services, config));
  // AuthGate's TOKEN_RATE_LIMIT / INTROSPECT_RATE_LIMIT, per address per minute; off unless configured.
  const tokenLimit = limit('token', config.rateLimits.tokenPerMinute, 60_000);
  const introspectLimit = limit('introspect', config.rateLimits.introspectPerMinute, 60_000);
  // Not mounted at all when off, so the path is an ordinary 404 rather than a refusal. Open registration
  // (no initial access token) is limited per address; holders of the token are trusted registrars.
  if (config.dynamicRegistration.enabled) {
    const max = config.dynamicRegistration.token ? 0 : config.rateLimits.registration;
    router.post('/oauth/register', limit('registration', max, config.rateLimits.registrationWindowSeconds * 1000), registrationEndpoint(services));
  }
  router.post('/oauth/token', tokenLimit, tokenEndpoint(services, grants));
  router.get('/oauth/tokeninfo', tokenInfoEndpoint(services));
  router.post('/oauth/tokeninfo', tokenInfoEndpoint(services));
  router.get('/oauth/userinfo', userInfoEndpoint(services));
  router.post('/oauth/userinfo', userInfoEndpoint(services));
  router.post('/oauth/revoke', revokeEndpoint(services));
  router.post('/oauth/introspect', introspectLimit, introspectEndpoint(services));
  return router;
}
