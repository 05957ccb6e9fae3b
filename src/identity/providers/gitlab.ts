// GitLab (gitlab.com or self-managed): https://docs.gitlab.com/api/oauth2/ — /oauth/authorize,
// /oauth/token with PKCE; the person from GET /api/v4/user. The primary address counts as verified when
// GET /api/v4/user/emails lists it with `confirmed_at`, or, on GitLab versions that leave the primary
// address out of that list, when the account itself is confirmed (`confirmed_at` on /user: GitLab
// confirms an account through its primary address).
import { ForgeProvider, str } from './forge.js';
import { isObject } from './http.js';
import type { ExternalProfile } from './types.js';

export class GitLabProvider extends ForgeProvider {
  protected readonly authorizePath = '/oauth/authorize';
  protected readonly tokenPath = '/oauth/token';

  protected async profile(accessToken: string): Promise<ExternalProfile> {
    const user = await this.user('/user', accessToken);
    const email = str(user.email);
    let emailVerified = false;
    if (email) {
      const emails = await this.api('/user/emails', accessToken).catch(() => undefined);
      const entry = Array.isArray(emails) ? emails.find((e) => isObject(e) && typeof e.email === 'string' && e.email.toLowerCase() === email.toLowerCase()) : undefined;
      emailVerified = isObject(entry) ? Boolean(str(entry.confirmed_at)) : Boolean(str(user.confirmed_at));
    }
    return { providerUserId: String(user.id), username: str(user.username), displayName: str(user.name), email, emailVerified };
  }
}
