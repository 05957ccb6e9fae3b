// The user's side of the device flow (RFC 8628 §3.3): enter the code, see who asks for what,
// approve or deny. Guessing is limited by UserCodeEntryService; this page translates.
import type Router from '@koa/router';
import type { Context } from 'koa';
import QRCode from 'qrcode';
import { BadInput, TooManyAttempts } from '../domain/errors.js';
import { displayUserCode, normalizeUserCode } from '../domain/user-code.js';
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

export function deviceRoutes(router: Router, deps: { services: { userCodeEntry: UserCodeEntryService }; render: Renderer; config: { baseUrl: string } }): void {
  const { services, render } = deps;

  // A QR code of verification_uri_complete, for a device with a screen to show (RFC 8628 §3.3.1), made
  // here by the qrcode package: no request ever leaves for a QR service. It needs no sign-in (the device
  // shows it) and looks nothing up, so it tells nobody whether a code exists; it only checks the format.
  router.get('/device/qr', async (ctx: Context) => {
    const code = normalizeUserCode(firstQuery(ctx, 'user_code') ?? '');
    if (!code) throw new BadInput('Add the code your device shows as ?user_code=XXXX-XXXX.');
    const target = `${deps.config.baseUrl}${DEVICE_VERIFICATION_PATH}?user_code=${encodeURIComponent(displayUserCode(code))}`;
    ctx.type = 'image/svg+xml';
    ctx.set('Cache-Control', 'public, max-age=600');
    ctx.body = await QRCode.toString(target, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  });

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
        return render(ctx, 'device-done.njk', { approved: action === 'approve', clientName: decided.clientName, scopes: describeScopes(decided.scopes) });
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
