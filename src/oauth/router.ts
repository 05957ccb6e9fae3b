// The protocol face's routes: RFC-shaped JSON in and out (errors rendered by respond.ts' oauthErrors).
import Router from '@koa/router';
import type { Config } from '../config/env.js';
import type { LimitName, RequestLimits } from '../http/rate-limit.js';
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
import { clientLimitKey } from './limit-key.js';
import { sendJson } from './respond.js';

export function oauthRouter(deps: { config: Config; services: Services; signer: JwtSigner; limits: RequestLimits }): Router {
  const { config, services, signer, limits } = deps;
  // AuthGate's per-endpoint request limits (http/rate-limit.ts), answered as RFC 6749-style JSON.
  // Endpoints clients authenticate to are keyed per client (see limit-key.ts), the others per address.
  const byClient = clientLimitKey(services.clients);
  const limit = (name: LimitName, max: number, windowSeconds = 60, perClient = true) =>
    limits.limit(name, {
      max,
      windowSeconds,
      key: perClient ? byClient : undefined,
      refuse: (ctx, retryAfter) =>
        sendJson(ctx, { error: 'temporarily_unavailable', error_description: `too many requests; retry in ${retryAfter} seconds` }, 429),
    });
  const router = new Router();
  const metadata = serverMetadata(config, grants);
  router.get('/.well-known/openid-configuration', discoveryEndpoint(metadata));
  router.get('/.well-known/oauth-authorization-server', discoveryEndpoint(metadata));
  router.get('/.well-known/jwks.json', jwksEndpoint(signer));
  // Each call stores a row.
  router.post('/oauth/device/code', limit('device_code', config.rateLimits.deviceCodePerMinute), deviceAuthorizationEndpoint(services, config));
  const tokenLimit = limit('token', config.rateLimits.tokenPerMinute);
  const introspectLimit = limit('introspect', config.rateLimits.introspectPerMinute);
  // Not mounted at all when off, so the path is an ordinary 404 rather than a refusal. Open registration
  // (no initial access token) is limited per address; holders of the token are trusted registrars.
  if (config.dynamicRegistration.enabled) {
    const max = config.dynamicRegistration.token ? 0 : config.rateLimits.registration;
    router.post('/oauth/register', limit('registration', max, config.rateLimits.registrationWindowSeconds, false), registrationEndpoint(services));
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
