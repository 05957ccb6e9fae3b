// GET/POST /oauth/userinfo (OIDC Core §5.3): the claims the access token's scopes release.
// Errors follow RFC 6750 §3: a missing token gets a bare challenge, a bad one invalid_token,
// a token without `openid` insufficient_scope (403).
import type { Context } from 'koa';
import { InsufficientScope, InvalidToken } from '../../domain/errors.js';
import { queryParams } from '../../http/body.js';
import type { Services } from '../../services/index.js';
import { sendJson } from '../respond.js';
import { bearerToken } from './tokeninfo.js';

export function userInfoEndpoint(services: Pick<Services, 'userInfo'>) {
  return async function userInfo(ctx: Context): Promise<void> {
    const params = ctx.method === 'GET' ? queryParams(ctx) : ctx.state.body!;
    let value: string;
    try {
      value = bearerToken(ctx, params.optional('access_token'));
    } catch (err) {
      if (!(err instanceof InvalidToken)) throw err;
      ctx.set('WWW-Authenticate', 'Bearer realm="authgate"');
      return sendJson(ctx, { error: 'invalid_request', error_description: 'an access token is required' }, 401);
    }
    try {
      sendJson(ctx, await services.userInfo.claims(value));
    } catch (err) {
      if (err instanceof InsufficientScope) ctx.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${err.scope}"`);
      throw err;
    }
  };
}
