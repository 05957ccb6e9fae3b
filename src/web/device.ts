// The user's side of the device flow (RFC 8628 §3.3): enter the code, see who asks for what,
// approve or deny. Wrong codes count as failures and repeated failures are slowed.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadInput } from '../domain/errors.js';
import { describeScopes } from '../domain/scope-descriptions.js';
import { requestInfo } from '../http/request-info.js';
import { attemptGuard, type AttemptLimiters } from '../ops/attempt-limiter.js';
import type { Services } from '../services/index.js';
import { csrfProtect } from './csrf.js';
import { firstQuery } from './login.js';
import type { Renderer } from './render.js';
import { requireUser } from './session.js';

export function deviceRoutes(router: Router, deps: { services: Services; render: Renderer; limiters: AttemptLimiters }): void {
  const { services, render, limiters } = deps;

  router.get('/device', requireUser(), async (ctx: Context) => {
    render(ctx, 'device.njk', { userCode: firstQuery(ctx, 'user_code') ?? '' });
  });

  router.post('/device/verify', requireUser({ formPage: '/device' }), csrfProtect, async (ctx: Context) => {
    const body = ctx.state.body!;
    const userCode = (body.get('user_code') ?? '').trim();
    const action = body.get('action');
    const user = ctx.state.user!;
    const guard = attemptGuard(limiters, { subject: `device:user:${user.id}`, address: `device:${ctx.ip}` });
    const wait = await guard.wait();
    if (wait > 0) {
      ctx.set('Retry-After', String(wait));
      return render(ctx, 'device.njk', { userCode, error: `Too many wrong codes. Wait ${wait} seconds before trying again.` }, 429);
    }
    try {
      if (action === 'approve' || action === 'deny') {
        const decided = await services.deviceCodes.decide(userCode, user, action === 'approve', requestInfo(ctx));
        return render(ctx, 'device-done.njk', { approved: action === 'approve', clientName: decided.clientName });
      }
      const pending = await services.deviceCodes.findPending(userCode);
      render(ctx, 'device-confirm.njk', { pending, scopes: describeScopes(pending.scopes) });
    } catch (err) {
      if (!(err instanceof BadInput)) throw err;
      await guard.failed();
      render(ctx, 'device.njk', { userCode, error: err.message }, 400);
    }
  });
}
