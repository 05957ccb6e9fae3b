// GET /oauth/tokeninfo: AuthGate's simple "is this access token good?" check, used by its resource
// servers. Accepts `Authorization: Bearer` (RFC 6750 §2.1) or the `access_token` parameter.
import type { Context } from 'koa';
import { InvalidRequest, InvalidToken } from '../../domain/errors.js';
import { queryParams } from '../../http/body.js';
import type { Services } from '../../services/index.js';
import { accessTokenSubject, subjectType } from '../../services/tokens.js';
import { sendJson } from '../respond.js';

export function bearerToken(ctx: Context, fallback: string | undefined): string {
  const header = ctx.get('authorization');
  const fromHeader = /^bearer /i.test(header) ? header.slice(7).trim() : undefined;
  if (fromHeader && fallback) throw new InvalidRequest('send the access token in one place only');
  const token = fromHeader || fallback;
  if (!token) throw new InvalidToken('an access token is required');
  return token;
}

export function tokenInfoEndpoint(services: Pick<Services, 'tokens'>) {
  return async function tokenInfo(ctx: Context): Promise<void> {
    const params = ctx.method === 'GET' ? queryParams(ctx) : ctx.state.body!;
    const { token, claims } = await services.tokens.validateAccessToken(bearerToken(ctx, params.optional('access_token')));
    sendJson(ctx, {
      active: true,
      // AuthGate's SDKs read user_id and subject_type: `client:<client_id>` / `client` for machine tokens.
      user_id: accessTokenSubject(token.userId, token.client.clientId),
      username: token.user?.username,
      client_id: token.client.clientId,
      scope: token.scopes,
      aud: claims.aud,
      exp: Math.floor(token.expiresAt.getTime() / 1000),
      iat: claims.iat,
      iss: claims.iss,
      sub: claims.sub,
      subject_type: subjectType(token.userId),
    });
  };
}
