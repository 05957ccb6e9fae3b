// POST /oauth/register (RFC 7591 §3): Dynamic Client Registration. Mounted only when
// ENABLE_DYNAMIC_CLIENT_REGISTRATION is on; the rules live in services/client-registration.ts.
import type { Context } from 'koa';
import { BadRequestBody } from '../../http/body.js';
import { requestInfo } from '../../http/request-info.js';
import type { Services } from '../../services/index.js';
import { sendJson } from '../respond.js';

export function registrationEndpoint(services: Pick<Services, 'registration'>) {
  return async function register(ctx: Context): Promise<void> {
    const req = requestInfo(ctx);
    // The initial access token is checked before the metadata is looked at, so a caller without
    // it learns nothing about what this server would accept.
    const { preAuthorized } = services.registration.authorizeRequest(bearer(ctx), req);
    // RFC 7591 §3.1: the request is a JSON document. The shared body reader has already enforced
    // the size limit and parsed it; a form body is not an alternative encoding here.
    const metadata = ctx.state.json;
    if (metadata === undefined) throw new BadRequestBody('Content-Type must be application/json', 415);
    // RFC 7591 §3.2.1: 201 Created, never cached (sendJson sets Cache-Control: no-store).
    sendJson(ctx, await services.registration.register(metadata, { preAuthorized }, req), 201);
  };
}

/** The RFC 6750 §2.1 bearer credential, if the request carries one. */
function bearer(ctx: Context): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(ctx.get('authorization'));
  return match?.[1];
}
