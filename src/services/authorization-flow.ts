// What happens to a validated authorization request once a person is (or is not) signed in
// (RFC 6749 §4.1.1–4.1.2, OIDC Core §3.1.2.1 `prompt`). This is the decision the consent page
// shows and submits; the HTML face only renders the outcome (a sign-in redirect, the consent page,
// or a redirect back to the client), so any other face that drives this flow gets the same rules.
import type { User } from '../db/client.js';
import type { AuditLog } from './audit.js';
import type { AuthorizationCodeService, AuthorizationRequest } from './authorization-codes.js';
import type { ConsentService } from './consents.js';
import type { RequestInfo } from './request-context.js';

/** The signed-in person, as far as the authorization request is concerned. */
export interface AuthorizingUser {
  user: User;
  /** When they last authenticated (OIDC `auth_time`). */
  authTime: Date;
}

/** The person's answer on the consent page; absent when the request arrives without one (GET). */
export type ConsentAnswer = 'approve' | 'deny';

export type AuthorizationOutcome =
  /** Nobody is signed in: sign in, then come back to the same request. */
  | { kind: 'sign_in' }
  /** `prompt=login`: end the current sign-in and authenticate again, then continue without `prompt`. */
  | { kind: 'reauthenticate' }
  /** Ask the person: show the consent page for this request. */
  | { kind: 'ask_consent' }
  /** Done: send the browser back to the client's redirect_uri with these parameters (a code or an RFC error). */
  | { kind: 'respond'; params: Record<string, string> };

export class AuthorizationFlowService {
  constructor(
    private readonly codes: AuthorizationCodeService,
    private readonly consents: ConsentService,
    private readonly audit: AuditLog,
  ) {}

  async proceed(request: AuthorizationRequest, viewer: AuthorizingUser | null, answer: ConsentAnswer | undefined, req: RequestInfo): Promise<AuthorizationOutcome> {
    if (!viewer) {
      // OIDC Core §3.1.2.1: prompt=none must not show anything; the client learns it has to ask.
      if (request.prompt === 'none') return respond({ error: 'login_required' });
      return { kind: 'sign_in' };
    }
    const { user } = viewer;
    // An answer comes from the consent page itself, which was shown after any re-authentication.
    if (request.prompt === 'login' && answer === undefined) return { kind: 'reauthenticate' };

    if (answer === 'deny') {
      this.audit.record({
        eventType: 'CONSENT_DENIED',
        severity: 'WARNING',
        success: false,
        actor: { userId: user.id, username: user.username },
        clientId: request.client.clientId,
        request: req,
        details: { scope: request.scopes.join(' ') },
      });
      return respond({ error: 'access_denied', error_description: 'the user denied the request' });
    }
    if (answer === 'approve') {
      await this.consents.grant(user, request.client, request.scopes, req);
    } else {
      const ask = request.prompt === 'consent' || (await this.consents.needsConsent(user, request.client, request.scopes));
      if (ask) return request.prompt === 'none' ? respond({ error: 'consent_required' }) : { kind: 'ask_consent' };
    }
    const code = await this.codes.issueCode(request, user, viewer.authTime, req);
    return respond({ code });
  }
}

function respond(params: Record<string, string>): AuthorizationOutcome {
  return { kind: 'respond', params };
}
