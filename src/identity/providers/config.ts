// Configuration of sign-in through external identity providers: GitHub (and GitHub Enterprise Server),
// Gitea, GitLab, Microsoft Entra ID under AuthGate's variable names, and any number of generic OpenID
// Connect providers (OIDC_PROVIDERS=name1,name2 with OIDC_<NAME>_*). Read by loadConfig (env.ts).
import { ConfigError } from '../../domain/errors.js';

type Env = Record<string, string | undefined>;

export type ProviderKind = 'github' | 'gitea' | 'gitlab' | 'oidc';

export interface ProviderConfig {
  /** The name in the URL (/oauth/<name>) and in OAuthConnection.provider / User.authSource. */
  name: string;
  kind: ProviderKind;
  displayName: string;
  clientId: string;
  clientSecret: string;
  /** Exactly what is sent as redirect_uri: *_REDIRECT_URL, or BASE_URL + /oauth/<name>/callback. */
  redirectUri: string;
  scopes: string[];
  /** github/gitea/gitlab: the web origin (authorize, token); oidc: the issuer. */
  baseUrl: string;
  /** github/gitea/gitlab: the REST API root. */
  apiUrl?: string;
  /** oidc: the issuer in discovery may be a template (Entra ID's "common" tenant: {tenantid}). */
  multiTenant?: boolean;
}

export interface ExternalSignInConfig {
  providers: ProviderConfig[];
  /** OAUTH_AUTO_REGISTER: create the account on first sign-in (default true). */
  autoRegister: boolean;
  /** OAUTH_TIMEOUT in milliseconds: bounds every request to a provider. */
  timeoutMs: number;
  /** OAUTH_INSECURE_SKIP_VERIFY: do not check provider TLS certificates (refused in production). */
  insecureSkipVerify: boolean;
}

// Paths under /oauth/ that belong to the protocol face: a provider may not take one of these names.
export const RESERVED_PROVIDER_NAMES = new Set([
  'authorize', 'token', 'tokeninfo', 'userinfo', 'revoke', 'introspect', 'register', 'device', 'jwks', 'logout', 'callback', 'end_session', 'par',
]);

export interface ConfigReaders {
  readBool(env: Env, name: string, fallback: boolean): boolean;
  readDuration(env: Env, name: string, fallback: string, range: { min: number; max?: number }): number;
}

export function readExternalSignIn(env: Env, ctx: { production: boolean; baseUrl: string }, read: ConfigReaders): ExternalSignInConfig {
  const insecureSkipVerify = read.readBool(env, 'OAUTH_INSECURE_SKIP_VERIFY', false);
  if (insecureSkipVerify && ctx.production) throw new ConfigError('OAUTH_INSECURE_SKIP_VERIFY=true is refused in production: provider certificates must be checked');
  const providers: ProviderConfig[] = [];
  const enabled = (p: string) => read.readBool(env, `${p}_OAUTH_ENABLED`, false);
  const common = (p: string, name: string, defaultScopes: string) => {
    const clientId = required(env, `${p}_CLIENT_ID`, `${p}_OAUTH_ENABLED=true`);
    const clientSecret = required(env, `${p}_CLIENT_SECRET`, `${p}_OAUTH_ENABLED=true`);
    return { name, clientId, clientSecret, redirectUri: redirectUri(env, `${p}_REDIRECT_URL`, ctx, name), scopes: scopes(env[`${p}_SCOPES`], defaultScopes) };
  };
  if (enabled('GITHUB')) {
    const web = providerUrl(env, 'GITHUB_URL', 'https://github.com', ctx.production);
    const api = providerUrl(env, 'GITHUB_API_URL', web === 'https://github.com' ? 'https://api.github.com' : `${web}/api/v3`, ctx.production);
    providers.push({ ...common('GITHUB', 'github', 'user:email'), kind: 'github', displayName: 'GitHub', baseUrl: web, apiUrl: api });
  }
  if (enabled('GITEA')) {
    if (!env.GITEA_URL?.trim()) throw new ConfigError('GITEA_OAUTH_ENABLED=true needs GITEA_URL (e.g. https://gitea.example.com)');
    const web = providerUrl(env, 'GITEA_URL', '', ctx.production);
    providers.push({ ...common('GITEA', 'gitea', 'read:user'), kind: 'gitea', displayName: 'Gitea', baseUrl: web, apiUrl: `${web}/api/v1` });
  }
  if (enabled('GITLAB')) {
    const web = providerUrl(env, 'GITLAB_URL', 'https://gitlab.com', ctx.production);
    providers.push({ ...common('GITLAB', 'gitlab', 'read_user'), kind: 'gitlab', displayName: 'GitLab', baseUrl: web, apiUrl: `${web}/api/v4` });
  }
  if (enabled('MICROSOFT')) {
    const tenant = env.MICROSOFT_TENANT_ID?.trim() || 'common';
    if (!/^[A-Za-z0-9.-]+$/.test(tenant)) throw new ConfigError(`MICROSOFT_TENANT_ID must be a tenant id, a domain, "common", "organizations" or "consumers", got "${tenant}"`);
    // National clouds: https://login.microsoftonline.us, https://login.chinacloudapi.cn, ...
    const authority = providerUrl(env, 'MICROSOFT_AUTHORITY_URL', 'https://login.microsoftonline.com', ctx.production);
    providers.push({
      ...common('MICROSOFT', 'microsoft', 'openid,profile,email,User.Read'),
      kind: 'oidc',
      displayName: 'Microsoft',
      baseUrl: `${authority}/${tenant}/v2.0`,
      multiTenant: ['common', 'organizations', 'consumers'].includes(tenant.toLowerCase()),
    });
  }
  const names = (env.OIDC_PROVIDERS ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  for (const raw of names) {
    if (!/^[a-z][a-z0-9_-]{0,31}$/i.test(raw)) throw new ConfigError(`OIDC_PROVIDERS: "${raw}" is not a valid provider name (letters, digits, - and _, starting with a letter)`);
    const name = raw.toLowerCase();
    const p = `OIDC_${name.toUpperCase().replace(/-/g, '_')}`;
    if (RESERVED_PROVIDER_NAMES.has(name)) throw new ConfigError(`OIDC_PROVIDERS: "${raw}" is reserved (/oauth/${name} is a protocol endpoint)`);
    if (providers.some((other) => other.name === name)) throw new ConfigError(`OIDC_PROVIDERS: "${raw}" is listed twice or clashes with a built-in provider`);
    if (!env[`${p}_ISSUER`]?.trim()) throw new ConfigError(`${p}_ISSUER is required for the OIDC provider "${raw}" (OIDC_PROVIDERS)`);
    const issuer = providerUrl(env, `${p}_ISSUER`, '', ctx.production);
    providers.push({
      name,
      kind: 'oidc',
      displayName: env[`${p}_DISPLAY_NAME`]?.trim() || raw,
      clientId: required(env, `${p}_CLIENT_ID`, `the OIDC provider "${raw}"`),
      clientSecret: required(env, `${p}_CLIENT_SECRET`, `the OIDC provider "${raw}"`),
      redirectUri: redirectUri(env, `${p}_REDIRECT_URL`, ctx, name),
      scopes: scopes(env[`${p}_SCOPES`], 'openid profile email'),
      baseUrl: issuer,
    });
    if (!providers.at(-1)!.scopes.includes('openid')) throw new ConfigError(`${p}_SCOPES must include "openid"`);
  }
  return {
    providers,
    autoRegister: read.readBool(env, 'OAUTH_AUTO_REGISTER', true),
    timeoutMs: read.readDuration(env, 'OAUTH_TIMEOUT', '15s', { min: 1, max: 300 }) * 1000,
    insecureSkipVerify,
  };
}

function required(env: Env, name: string, forWhat: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`${name} is required for ${forWhat}`);
  return value;
}

function scopes(raw: string | undefined, fallback: string): string[] {
  const list = (raw?.trim() || fallback).split(/[\s,]+/).filter(Boolean);
  const bad = list.find((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
  if (bad !== undefined) throw new ConfigError(`invalid scope "${bad}" in a provider's *_SCOPES`);
  return [...new Set(list)];
}

function redirectUri(env: Env, name: string, ctx: { production: boolean; baseUrl: string }, provider: string): string {
  const raw = env[name]?.trim();
  if (!raw) return `${ctx.baseUrl}/oauth/${provider}/callback`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${raw}"`);
  }
  const base = new URL(ctx.baseUrl);
  if (url.origin !== base.origin) throw new ConfigError(`${name} must be on this server (${base.origin}), got "${raw}"`);
  const path = url.pathname;
  if (path !== `${base.pathname.replace(/\/$/, '')}/oauth/${provider}/callback` && path !== `${base.pathname.replace(/\/$/, '')}/auth/callback/${provider}`) {
    throw new ConfigError(`${name} must end in /oauth/${provider}/callback or /auth/callback/${provider}, got "${raw}"`);
  }
  return raw;
}

/** A provider's URL: https, or plain http only on a loopback host outside production. No trailing slash. */
export function providerUrl(env: Env, name: string, fallback: string, production: boolean): string {
  const raw = env[name]?.trim() || fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: "${raw}"`);
  }
  if (url.search || url.hash || url.username || url.password) throw new ConfigError(`${name} must be a plain URL without query, fragment or credentials, got "${raw}"`);
  checkScheme(url, production, name);
  return raw.replace(/\/+$/, '');
}

export function checkScheme(url: URL, production: boolean, what: string): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && !production && isLoopbackHost(url.hostname)) return;
  throw new ConfigError(`${what} must use https:// (plain http only on a loopback address outside production), got "${url.href}"`);
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
