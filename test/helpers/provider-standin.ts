// A stand-in identity provider the tests start on a loopback port: GitHub (Enterprise Server paths),
// Gitea, GitLab or a bare OpenID Connect provider, speaking each one's documented endpoints and JSON
// shapes. It checks what a real provider checks (client credentials, the exact redirect_uri, PKCE,
// single-use codes) and lets a test change what it answers (a user's e-mail state, a broken ID token,
// a slow or failing user API).
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT, type CryptoKey } from 'jose';

export type StandInKind = 'github' | 'gitea' | 'gitlab' | 'oidc' | 'microsoft';

export interface StandInUser {
  id: number | string;
  login: string;
  name: string;
  email: string;
  /** What the provider says about the address (GitHub/Gitea `verified`, GitLab `confirmed_at`, OIDC `email_verified`). */
  verified: boolean;
}

/** How the stand-in misbehaves on the next token request or user API call. */
export interface Tamper {
  idToken?: 'wrong_aud' | 'wrong_iss' | 'wrong_nonce' | 'bad_signature' | 'expired' | 'other_tenant_iss';
  userApi?: 'status_500' | 'malformed' | 'slow';
  slowMs?: number;
}

export interface StandIn {
  url: string;
  kind: StandInKind;
  clientId: string;
  clientSecret: string;
  /** The user who "signs in" at the next authorization request. */
  signInAs: StandInUser | undefined;
  tamper: Tamper;
  /** Requests seen, as "METHOD path". */
  requests: string[];
  /** The `scope` of the last authorization request. */
  lastScope?: string;
  lastRedirectUri?: string;
  close(): Promise<void>;
}

interface Grant {
  user: StandInUser;
  redirectUri: string;
  challenge: string;
  nonce?: string;
}

/** `tls`: serve HTTPS with this certificate and key (PEM), e.g. a self-signed one. */
export async function startStandIn(kind: StandInKind, opts: { host?: string; tls?: { cert: string; key: string } } = {}): Promise<StandIn> {
  const clientId = `client-${kind}`;
  const clientSecret = `secret-${randomBytes(8).toString('hex')}`;
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, StandInUser>();
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'standin-1', alg: 'RS256', use: 'sig' };
  const host = opts.host ?? '127.0.0.1';
  let base = '';
  const paths = {
    github: { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', user: '/api/v3/user', emails: '/api/v3/user/emails' },
    gitea: { authorize: '/login/oauth/authorize', token: '/login/oauth/access_token', user: '/api/v1/user', emails: '/api/v1/user/emails' },
    gitlab: { authorize: '/oauth/authorize', token: '/oauth/token', user: '/api/v4/user', emails: '/api/v4/user/emails' },
    oidc: { authorize: '/auth', token: '/token', user: '/userinfo', emails: '/none' },
    // Entra ID's v2.0 endpoints under the "common" tenant (the person's own tenant is in the ID token).
    microsoft: { authorize: '/common/oauth2/v2.0/authorize', token: '/common/oauth2/v2.0/token', user: '/oidc/userinfo', emails: '/none' },
  }[kind];
  const TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
  const oidcLike = kind === 'oidc' || kind === 'microsoft';

  const standIn: StandIn = {
    url: '',
    kind,
    clientId,
    clientSecret,
    signInAs: undefined,
    tamper: {},
    requests: [],
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, base);
    standIn.requests.push(`${req.method} ${url.pathname}`);
    const body = await new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => resolve(data));
    });
    if (kind === 'microsoft' && url.pathname === '/common/v2.0/.well-known/openid-configuration') {
      // As Entra ID publishes it for a multi-tenant authority: the issuer is a template.
      return json(res, 200, {
        issuer: `${base}/{tenantid}/v2.0`,
        authorization_endpoint: `${base}${paths.authorize}`,
        token_endpoint: `${base}${paths.token}`,
        userinfo_endpoint: `${base}${paths.user}`,
        jwks_uri: `${base}/common/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        tenant_region_scope: null,
      });
    }
    if (kind === 'microsoft' && url.pathname === '/common/discovery/v2.0/keys') return json(res, 200, { keys: [jwk] });
    if (kind === 'oidc' && url.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        userinfo_endpoint: `${base}/userinfo`,
        jwks_uri: `${base}/jwks`,
        response_types_supported: ['code'],
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (kind === 'oidc' && url.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
    if (url.pathname === paths.authorize && req.method === 'GET') {
      const q = url.searchParams;
      standIn.lastScope = q.get('scope') ?? undefined;
      standIn.lastRedirectUri = q.get('redirect_uri') ?? undefined;
      if (q.get('client_id') !== clientId || !q.get('redirect_uri') || q.get('response_type') !== 'code') return json(res, 400, { error: 'invalid_request' });
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) return json(res, 400, { error: 'invalid_request', error_description: 'PKCE required' });
      const back = new URL(q.get('redirect_uri')!);
      if (!standIn.signInAs) {
        back.searchParams.set('error', 'access_denied');
      } else {
        const code = randomBytes(16).toString('hex');
        codes.set(code, { user: standIn.signInAs, redirectUri: q.get('redirect_uri')!, challenge: q.get('code_challenge')!, nonce: q.get('nonce') ?? undefined });
        back.searchParams.set('code', code);
      }
      back.searchParams.set('state', q.get('state') ?? '');
      res.writeHead(302, { location: back.toString() });
      return void res.end();
    }
    if (url.pathname === paths.token && req.method === 'POST') {
      const form = new URLSearchParams(body);
      let [id, secret] = [form.get('client_id'), form.get('client_secret')];
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent) as [string, string];
      // GitHub answers a bad code with 200 and an error object; the others with 400/401.
      const fail = (error: string, status = 400) => json(res, kind === 'github' ? 200 : status, { error });
      if (id !== clientId || secret !== clientSecret) return fail('invalid_client', 401);
      const grant = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!grant || form.get('grant_type') !== 'authorization_code') return fail(kind === 'github' ? 'bad_verification_code' : 'invalid_grant');
      if (form.get('redirect_uri') !== grant.redirectUri) return fail(kind === 'github' ? 'redirect_uri_mismatch' : 'invalid_grant');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== grant.challenge) return fail('invalid_grant');
      const accessToken = randomBytes(16).toString('hex');
      tokens.set(accessToken, grant.user);
      const answer: Record<string, unknown> = { access_token: accessToken, token_type: 'bearer', scope: standIn.lastScope };
      if (oidcLike) answer.id_token = await idToken(grant);
      return json(res, 200, answer);
    }
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const user = auth ? tokens.get(auth[1]!) : undefined;
    if (url.pathname === paths.user || url.pathname === paths.emails) {
      if (!user) return json(res, 401, { message: 'Bad credentials' });
      if (standIn.tamper.userApi === 'slow') await new Promise((r) => setTimeout(r, standIn.tamper.slowMs ?? 3000));
      if (standIn.tamper.userApi === 'status_500') return json(res, 500, { message: 'internal error' });
      if (standIn.tamper.userApi === 'malformed') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"id": 1, "login": ');
      }
      if (url.pathname === paths.user) return json(res, 200, userJson(user));
      return json(res, 200, emailsJson(user));
    }
    json(res, 404, { message: 'Not Found' });
  }

  function userJson(user: StandInUser): Record<string, unknown> {
    switch (kind) {
      case 'github':
        // GET /user: the public profile e-mail may be null; the verified state is only in /user/emails.
        return { login: user.login, id: user.id, node_id: 'MDQ6VXNlcjE=', type: 'User', site_admin: false, name: user.name, email: null };
      case 'gitea':
        return { id: user.id, login: user.login, login_name: '', full_name: user.name, email: user.email, avatar_url: '', is_admin: false, active: true };
      case 'gitlab':
        // An account whose primary address is unconfirmed is itself unconfirmed.
        return { id: user.id, username: user.login, name: user.name, state: 'active', email: user.email, confirmed_at: user.verified ? '2024-01-01T00:00:00.000Z' : null };
      case 'oidc':
      case 'microsoft':
        return { sub: String(user.id), name: user.name, preferred_username: user.login, email: user.email, email_verified: user.verified };
    }
  }

  function emailsJson(user: StandInUser): unknown[] {
    switch (kind) {
      case 'github':
        return [
          { email: `${user.login}@users.noreply.github.com`, primary: false, verified: true, visibility: null },
          { email: user.email, primary: true, verified: user.verified, visibility: 'private' },
        ];
      case 'gitea':
        return [{ email: user.email, verified: user.verified, primary: true, user_id: user.id, username: user.login }];
      case 'gitlab':
        return [{ id: 7, email: user.email, confirmed_at: user.verified ? '2024-01-01T00:00:00.000Z' : null }];
      default:
        return [];
    }
  }

  async function idToken(grant: Grant): Promise<string> {
    const t = standIn.tamper.idToken;
    const now = Math.floor(Date.now() / 1000);
    // Entra ID puts the profile in the ID token (no email_verified: it does not vouch for the address).
    const claims =
      kind === 'microsoft'
        ? { tid: TENANT, oid: `oid-${grant.user.id}`, name: grant.user.name, preferred_username: grant.user.email, email: grant.user.email, ver: '2.0' }
        : {};
    const issuer = kind === 'microsoft' ? `${base}/${t === 'other_tenant_iss' ? '72f988bf-86f1-41af-91ab-2d7cd011db47' : TENANT}/v2.0` : base;
    const jwt = new SignJWT({ ...claims, nonce: t === 'wrong_nonce' ? 'not-the-nonce' : grant.nonce })
      .setProtectedHeader({ alg: 'RS256', kid: 'standin-1' })
      .setIssuer(t === 'wrong_iss' ? `${base}/other` : issuer)
      .setAudience(t === 'wrong_aud' ? 'someone-else' : clientId)
      .setSubject(String(grant.user.id))
      .setIssuedAt(t === 'expired' ? now - 7200 : now)
      .setExpirationTime(t === 'expired' ? now - 3600 : now + 300);
    return jwt.sign((t === 'bad_signature' ? other.privateKey : privateKey) as CryptoKey);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  base = `${opts.tls ? 'https' : 'http'}://${host}:${(server.address() as AddressInfo).port}`;
  standIn.url = base;
  return standIn;
}
