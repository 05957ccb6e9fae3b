// GitHub and GitHub Enterprise Server: https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
// The person from GET /user; the address and whether GitHub verified it from GET /user/emails (scope
// user:email): only the primary address, and only when GitHub says `verified: true`.
import { ForgeProvider, str } from './forge.js';
import { isObject } from './http.js';
import type { ExternalProfile } from './types.js';

const GITHUB_JSON = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };

export class GitHubProvider extends ForgeProvider {
  protected readonly authorizePath = '/login/oauth/authorize';
  protected readonly tokenPath = '/login/oauth/access_token';

  protected async profile(accessToken: string): Promise<ExternalProfile> {
    const user = await this.user('/user', accessToken, GITHUB_JSON);
    let email = str(user.email);
    let emailVerified = false;
    // Without the user:email scope the list is refused: the address is then unverified, not an error.
    const emails = await this.api('/user/emails', accessToken, GITHUB_JSON).catch(() => undefined);
    if (Array.isArray(emails)) {
      const primary = emails.find((e) => isObject(e) && e.primary === true && typeof e.email === 'string');
      if (isObject(primary)) {
        email = str(primary.email);
        emailVerified = primary.verified === true;
      }
    }
    return { providerUserId: String(user.id), username: str(user.login), displayName: str(user.name), email, emailVerified };
  }
}
