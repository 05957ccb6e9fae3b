// Configuration of sign-in with providers: AuthGate's variable names and defaults, and every mistake
// a startup error naming the variable.
import { describe, expect, test } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.js';
import { ConfigError } from '../../src/domain/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'authgate-idp-config-'));
const load = (env: Record<string, string>) => loadConfig({ DATA_DIR: dir, BASE_URL: 'https://auth.example.com', ...env });
const github = { GITHUB_OAUTH_ENABLED: 'true', GITHUB_CLIENT_ID: 'id', GITHUB_CLIENT_SECRET: 'secret' };
const production = { NODE_ENV: 'production', JWT_SECRET: 'j'.repeat(40), SESSION_SECRET: 's'.repeat(40) };

function refused(env: Record<string, string>, message: RegExp): void {
  expect(() => load(env)).toThrow(ConfigError);
  expect(() => load(env)).toThrow(message);
}

describe('providers under AuthGate names', () => {
  test('nothing enabled by default; AuthGate defaults when enabled', () => {
    expect(load({}).externalSignIn).toEqual({ providers: [], autoRegister: true, timeoutMs: 15_000, insecureSkipVerify: false });
    const config = load({
      ...github,
      GITEA_OAUTH_ENABLED: 'true', GITEA_URL: 'https://gitea.example.com/', GITEA_CLIENT_ID: 'g', GITEA_CLIENT_SECRET: 'gs',
      GITLAB_OAUTH_ENABLED: 'true', GITLAB_CLIENT_ID: 'l', GITLAB_CLIENT_SECRET: 'ls',
      MICROSOFT_OAUTH_ENABLED: 'true', MICROSOFT_CLIENT_ID: 'm', MICROSOFT_CLIENT_SECRET: 'ms',
      OAUTH_AUTO_REGISTER: 'false', OAUTH_TIMEOUT: '5s',
    }).externalSignIn;
    expect(config.autoRegister).toBe(false);
    expect(config.timeoutMs).toBe(5000);
    const byName = Object.fromEntries(config.providers.map((p) => [p.name, p]));
    expect(byName.github).toMatchObject({ baseUrl: 'https://github.com', apiUrl: 'https://api.github.com', scopes: ['user:email'], redirectUri: 'https://auth.example.com/oauth/github/callback' });
    expect(byName.gitea).toMatchObject({ baseUrl: 'https://gitea.example.com', apiUrl: 'https://gitea.example.com/api/v1', scopes: ['read:user'] });
    expect(byName.gitlab).toMatchObject({ baseUrl: 'https://gitlab.com', apiUrl: 'https://gitlab.com/api/v4', scopes: ['read_user'] });
    expect(byName.microsoft).toMatchObject({ kind: 'oidc', baseUrl: 'https://login.microsoftonline.com/common/v2.0', multiTenant: true, scopes: ['openid', 'profile', 'email', 'User.Read'] });
  });

  test('GitHub Enterprise Server: the API under GITHUB_URL/api/v3 unless GITHUB_API_URL says otherwise; Entra ID national clouds', () => {
    expect(load({ ...github, GITHUB_URL: 'https://ghe.example.com' }).externalSignIn.providers[0]).toMatchObject({ apiUrl: 'https://ghe.example.com/api/v3' });
    expect(load({ ...github, GITHUB_URL: 'https://ghe.example.com', GITHUB_API_URL: 'https://api.ghe.example.com' }).externalSignIn.providers[0]).toMatchObject({ apiUrl: 'https://api.ghe.example.com' });
    const ms = load({ MICROSOFT_OAUTH_ENABLED: 'true', MICROSOFT_CLIENT_ID: 'm', MICROSOFT_CLIENT_SECRET: 's', MICROSOFT_TENANT_ID: '11111111-2222-3333-4444-555555555555', MICROSOFT_AUTHORITY_URL: 'https://login.microsoftonline.us' });
    expect(ms.externalSignIn.providers[0]).toMatchObject({ baseUrl: 'https://login.microsoftonline.us/11111111-2222-3333-4444-555555555555/v2.0', multiTenant: false });
  });

  test('the redirect URI is exactly *_REDIRECT_URL, which must be one of our two callback paths', () => {
    expect(load({ ...github, GITHUB_REDIRECT_URL: 'https://auth.example.com/auth/callback/github' }).externalSignIn.providers[0]!.redirectUri).toBe('https://auth.example.com/auth/callback/github');
    refused({ ...github, GITHUB_REDIRECT_URL: 'https://evil.example.com/auth/callback/github' }, /^GITHUB_REDIRECT_URL must be on this server/);
    refused({ ...github, GITHUB_REDIRECT_URL: 'https://auth.example.com/elsewhere' }, /^GITHUB_REDIRECT_URL must end in/);
  });

  test.each([
    [{ GITHUB_OAUTH_ENABLED: 'true' }, /^GITHUB_CLIENT_ID is required/],
    [{ GITHUB_OAUTH_ENABLED: 'true', GITHUB_CLIENT_ID: 'id' }, /^GITHUB_CLIENT_SECRET is required/],
    [{ GITHUB_OAUTH_ENABLED: 'maybe' }, /^GITHUB_OAUTH_ENABLED must be true or false/],
    [{ GITEA_OAUTH_ENABLED: 'true', GITEA_CLIENT_ID: 'a', GITEA_CLIENT_SECRET: 'b' }, /^GITEA_OAUTH_ENABLED=true needs GITEA_URL/],
    [{ ...github, GITHUB_URL: 'http://github.example.com' }, /^GITHUB_URL must use https:\/\//],
    [{ ...github, ...production, GITHUB_URL: 'http://127.0.0.1:3000' }, /^GITHUB_URL must use https:\/\//],
    [{ ...production, OAUTH_INSECURE_SKIP_VERIFY: 'true' }, /^OAUTH_INSECURE_SKIP_VERIFY=true is refused in production/],
    [{ MICROSOFT_OAUTH_ENABLED: 'true', MICROSOFT_CLIENT_ID: 'a', MICROSOFT_CLIENT_SECRET: 'b', MICROSOFT_TENANT_ID: 'x/../y' }, /^MICROSOFT_TENANT_ID must be/],
    [{ OAUTH_TIMEOUT: 'soon' }, /^OAUTH_TIMEOUT must be a duration/],
  ])('refused: %j', (env, message) => refused(env as Record<string, string>, message));
});

describe('generic OpenID Connect providers (OIDC_PROVIDERS)', () => {
  const acme = { OIDC_PROVIDERS: 'acme', OIDC_ACME_ISSUER: 'https://id.acme.example/', OIDC_ACME_CLIENT_ID: 'c', OIDC_ACME_CLIENT_SECRET: 's' };

  test('defaults: scopes openid profile email, the display name is the name, callback /oauth/<name>/callback', () => {
    expect(load({ ...acme, OIDC_PROVIDERS: 'Acme' }).externalSignIn.providers).toEqual([
      { name: 'acme', kind: 'oidc', displayName: 'Acme', clientId: 'c', clientSecret: 's', baseUrl: 'https://id.acme.example', scopes: ['openid', 'profile', 'email'], redirectUri: 'https://auth.example.com/oauth/acme/callback' },
    ]);
    expect(load({ ...acme, OIDC_ACME_DISPLAY_NAME: 'Acme SSO', OIDC_ACME_SCOPES: 'openid email groups' }).externalSignIn.providers[0]).toMatchObject({ displayName: 'Acme SSO', scopes: ['openid', 'email', 'groups'] });
    // Plain http only on loopback outside production.
    expect(load({ ...acme, OIDC_ACME_ISSUER: 'http://127.0.0.1:9000' }).externalSignIn.providers[0]!.baseUrl).toBe('http://127.0.0.1:9000');
  });

  test.each([
    [{ ...acme, OIDC_ACME_ISSUER: '' }, /^OIDC_ACME_ISSUER is required/],
    [{ ...acme, OIDC_ACME_CLIENT_SECRET: '' }, /^OIDC_ACME_CLIENT_SECRET is required/],
    [{ ...acme, OIDC_ACME_ISSUER: 'http://id.acme.example' }, /^OIDC_ACME_ISSUER must use https:\/\//],
    [{ ...acme, ...production, OIDC_ACME_ISSUER: 'http://localhost:9000' }, /^OIDC_ACME_ISSUER must use https:\/\//],
    [{ ...acme, OIDC_ACME_SCOPES: 'profile email' }, /^OIDC_ACME_SCOPES must include "openid"/],
    [{ ...acme, OIDC_PROVIDERS: 'token', OIDC_TOKEN_ISSUER: 'https://x.example' }, /"token" is reserved/],
    [{ ...acme, OIDC_PROVIDERS: 'acme,acme' }, /listed twice/],
    [{ ...acme, OIDC_PROVIDERS: 'a b' }, /not a valid provider name/],
  ])('refused: %j', (env, message) => refused(env as Record<string, string>, message));
});
