// Gitea (and Forgejo): https://docs.gitea.com/development/oauth2-provider — /login/oauth/authorize,
// /login/oauth/access_token; the person from GET /api/v1/user, the address's verification from
// GET /api/v1/user/emails (`verified`, `primary`).
import { ForgeProvider, str } from './forge.js';
import { isObject } from './http.js';
import type { ExternalProfile } from './types.js';

export class GiteaProvider extends ForgeProvider {
  protected readonly authorizePath = '/login/oauth/authorize';
  protected readonly tokenPath = '/login/oauth/access_token';

  protected async profile(accessToken: string): Promise<ExternalProfile> {
    const user = await this.user('/user', accessToken);
    const email = str(user.email);
    let emailVerified = false;
    const emails = await this.api('/user/emails', accessToken).catch(() => undefined);
    if (Array.isArray(emails) && email) {
      const entry = emails.find((e) => isObject(e) && typeof e.email === 'string' && e.email.toLowerCase() === email.toLowerCase());
      emailVerified = isObject(entry) && entry.verified === true;
    }
    return { providerUserId: String(user.id), username: str(user.login) ?? str(user.username), displayName: str(user.full_name), email, emailVerified };
  }
}
