// The configured identity providers, by name.
import type { ExternalSignInConfig } from './config.js';
import { GiteaProvider } from './gitea.js';
import { GitHubProvider } from './github.js';
import { GitLabProvider } from './gitlab.js';
import { OidcProvider } from './oidc.js';
import type { IdentityProvider } from './types.js';

export function createIdentityProviders(config: ExternalSignInConfig, production: boolean): Map<string, IdentityProvider> {
  const http = { timeoutMs: config.timeoutMs, insecureSkipVerify: config.insecureSkipVerify, production };
  const out = new Map<string, IdentityProvider>();
  for (const p of config.providers) {
    const provider =
      p.kind === 'github' ? new GitHubProvider(p, http) : p.kind === 'gitea' ? new GiteaProvider(p, http) : p.kind === 'gitlab' ? new GitLabProvider(p, http) : new OidcProvider(p, http);
    out.set(p.name, provider);
  }
  return out;
}
