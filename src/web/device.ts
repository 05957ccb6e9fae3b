// The user's side of the device flow (RFC 8628 §3.3): enter the code, see who asks for what,
// approve or deny. Guessing is limited by UserCodeEntryService; this page translates.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadInput, TooManyAttempts } from '../domain/errors.js';
import { describeScopes } from '../domain/scope-descriptions.js';
import { requestInfo } from '../http/request-info.js';
import type { UserCodeEntryService } from '../services/user-code-entry.js';
import { csrfProtect } from './csrf.js';
import { firstQuery } from './login.js';
import type { Renderer } from './render.js';
import { requireUser } from './session.js';
import { describeWait } from './wait.js';

/** RFC 8628 §3.2 verification_uri: where a person enters the code their device shows. */
export const DEVICE_VERIFICATION_PATH = '/device';

export function deviceRoutes(router: Router, deps: { services: { userCodeEntry: UserCodeEntryService }; render: Renderer }): void {
  const { services, render } = deps;

  router.get(DEVICE_VERIFICATION_PATH, requireUser(), async (ctx: Context) => {
    render(ctx, 'device.njk', { userCode: firstQuery(ctx, 'user_code') ?? '' });
  });

  router.post('/device/verify', requireUser({ formPage: DEVICE_VERIFICATION_PATH }), csrfProtect, async (ctx: Context) => {
    const body = ctx.state.body!;
    const userCode = (body.get('user_code') ?? '').trim();
    const action = body.get('action');
    const user = ctx.state.user!;
    try {
      if (action === 'approve' || action === 'deny') {
        const decided = await services.userCodeEntry.decide(userCode, user, action === 'approve', requestInfo(ctx));
        return render(ctx, 'device-done.njk', { approved: action === 'approve', clientName: decided.clientName });
      }
      const pending = await services.userCodeEntry.findPending(userCode, user, requestInfo(ctx));
      render(ctx, 'device-confirm.njk', { pending, scopes: describeScopes(pending.scopes) });
    } catch (err) {
      if (err instanceof TooManyAttempts) {
        ctx.set('Retry-After', String(err.retryAfter));
        const error = `Too many wrong codes. Try again in ${describeWait(err.retryAfter)}.`;
        return render(ctx, 'device.njk', { userCode, error }, 429);
      }
      if (!(err instanceof BadInput)) throw err;
      render(ctx, 'device.njk', { userCode, error: err.message }, 400);
    }
  });
}
