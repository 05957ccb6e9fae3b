// Dynamic Client Registration (RFC 7591). A client describes itself with metadata; the server checks
// that description against what it is willing to offer and creates the client. Registration may be
// open to anyone: then the client is created `pending` and cannot authenticate (ClientService refuses
// anything not `approved`) until an administrator approves it. With an initial access token configured
// (RFC 7591 §3), only holders of that token may register, and their clients are usable at once.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/env.js';
import type { Db, OAuthClient, User } from '../db/client.js';
import { hasControlCharacters } from '../domain/control-characters.js';
import { constantTimeEqual } from '../domain/crypto.js';
import { Conflict, Forbidden, InvalidClientMetadata, InvalidRedirectUri, InvalidToken, NotFound, OAuthError } from '../domain/errors.js';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/grant-types.js';
import { formatScope, parseScope } from '../domain/scopes.js';
import type { Caches } from '../ops/cache.js';
import type { AuditLog } from './audit.js';
import { generateClientSecret, type ClientAuthMethod } from './clients.js';
import type { RequestInfo } from './request-context.js';

const SUPPORTED_GRANT_TYPES: readonly string[] = ['authorization_code', 'refresh_token', 'client_credentials', DEVICE_CODE_GRANT_TYPE];
const AUTH_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'none'];

/**
 * What a self-registered client may ask for. Deliberately only the OIDC scopes: anything that reaches
 * this server's own APIs (`admin`, AuthGate's `read`/`write`) is granted by an administrator, never
 * by whoever can send a POST.
 */
export const REGISTRABLE_SCOPES: readonly string[] = ['openid', 'profile', 'email', 'offline_access'];
const DEFAULT_SCOPES: readonly string[] = ['openid', 'profile', 'email'];
const DEFAULT_CLIENT_NAME = 'Unnamed client';

// Registration may be anonymous, so every list and string a caller can make us store is bounded.
export const MAX_REDIRECT_URIS = 10;
const MAX_REDIRECT_URI_LENGTH = 2000;
const MAX_CLIENT_NAME_LENGTH = 100;
// RFC 8252 §7.3: native apps receive the redirect on a loopback listener, where TLS is impossible.
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The metadata after validation and defaults; also what is echoed back (RFC 7591 §3.2.1). */
export interface ClientMetadata {
  client_name: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: ClientAuthMethod;
  scope: string;
}

/** RFC 7591 §3.2.1 client information response. */
export interface ClientInformation extends ClientMetadata {
  client_id: string;
  /** Only for confidential clients; shown once, stored only as a hash. */
  client_secret?: string;
  client_id_issued_at: number;
  /** Present with a secret: 0 means it does not expire. */
  client_secret_expires_at?: number;
}

export type ClientApprover = Pick<User, 'id' | 'username' | 'role'>;

export class ClientRegistrationService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly settings: Config['dynamicRegistration'],
    private readonly caches: Caches,
  ) {}

  /**
   * Decides whether a registration request is pre-authorized. With an initial access token
   * configured, the caller must present it (RFC 7591 §3, as an RFC 6750 bearer token), and a missing
   * or wrong one is refused outright; without one, registration is open but unapproved.
   */
  authorizeRequest(presentedToken: string | undefined, req: RequestInfo): { preAuthorized: boolean } {
    const expected = this.settings.token;
    if (expected === undefined) return { preAuthorized: false };
    if (presentedToken !== undefined && constantTimeEqual(presentedToken, expected)) return { preAuthorized: true };
    this.audit.record({
      eventType: 'CLIENT_REGISTRATION_REFUSED',
      severity: 'WARNING',
      success: false,
      request: req,
      details: { reason: presentedToken === undefined ? 'missing_initial_access_token' : 'wrong_initial_access_token' },
    });
    throw new InvalidToken(presentedToken === undefined ? 'an initial access token is required to register clients' : 'the initial access token is not valid');
  }

  /**
   * Validates the metadata and creates the client: `approved` when the request was pre-authorized,
   * `pending` otherwise. The secret of a confidential client is returned here once and stored hashed.
   */
  async register(metadata: unknown, opts: { preAuthorized: boolean }, req: RequestInfo): Promise<ClientInformation> {
    const meta = validateClientMetadata(metadata);
    const confidential = meta.token_endpoint_auth_method !== 'none';
    const secret = confidential ? generateClientSecret() : undefined;
    const approvalStatus = opts.preAuthorized ? 'approved' : 'pending';
    const client = await this.db.oAuthClient.create({
      data: {
        clientId: randomUUID(),
        clientSecretHash: secret?.hash ?? null,
        name: meta.client_name,
        description: 'Registered through dynamic client registration',
        clientType: confidential ? 'confidential' : 'public',
        redirectUris: JSON.stringify(meta.redirect_uris),
        allowedScopes: meta.scope,
        enableAuthCodeFlow: meta.grant_types.includes('authorization_code'),
        enableClientCredentials: meta.grant_types.includes('client_credentials'),
        enableDeviceFlow: meta.grant_types.includes(DEVICE_CODE_GRANT_TYPE),
        active: true,
        approvalStatus,
      },
    });
    this.audit.record({
      eventType: 'CLIENT_REGISTERED',
      subject: { type: 'oauth_client', id: client.id },
      clientId: client.clientId,
      request: req,
      // Key names matter: the audit log masks keys that name credentials (e.g. "*_token", "*_secret").
      details: {
        client_name: meta.client_name,
        client_type: client.clientType,
        grant_types: meta.grant_types,
        redirect_uris: meta.redirect_uris,
        scope: meta.scope,
        approval_status: approvalStatus,
      },
    });
    return {
      client_id: client.clientId,
      ...(secret ? { client_secret: secret.secret } : {}),
      client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
      ...(secret ? { client_secret_expires_at: 0 } : {}),
      ...meta,
    };
  }

  /** An administrator lets a pending client authenticate. */
  approveClient(clientId: string, adminUser: ClientApprover, req: RequestInfo): Promise<OAuthClient> {
    return this.decide(clientId, 'approved', adminUser, req);
  }

  /** An administrator refuses a pending client; it stays unable to authenticate. */
  rejectClient(clientId: string, adminUser: ClientApprover, req: RequestInfo): Promise<OAuthClient> {
    return this.decide(clientId, 'rejected', adminUser, req);
  }

  private async decide(clientId: string, decision: 'approved' | 'rejected', admin: ClientApprover, req: RequestInfo): Promise<OAuthClient> {
    if (admin.role !== 'admin') throw new Forbidden('Only administrators can approve or reject clients.');
    // Conditional update: of two concurrent decisions on the same client exactly one wins, so an
    // approval and a rejection cannot both be reported as successful.
    const { count } = await this.db.oAuthClient.updateMany({ where: { clientId, approvalStatus: 'pending' }, data: { approvalStatus: decision } });
    const client = await this.db.oAuthClient.findUnique({ where: { clientId } });
    if (!client) throw new NotFound('No such client.');
    if (count > 0) await this.caches.clientChanged(client);
    if (count === 0) throw new Conflict(`This client is not awaiting approval (it is ${client.approvalStatus}).`);
    // Written at once: this decision is what lets a self-registered client obtain tokens.
    await this.audit.recordNow({
      eventType: decision === 'approved' ? 'CLIENT_APPROVED' : 'CLIENT_REJECTED',
      actor: { userId: admin.id, username: admin.username },
      subject: { type: 'oauth_client', id: client.id },
      clientId: client.clientId,
      request: req,
      details: { client_name: client.name },
    });
    return client;
  }
}

/**
 * RFC 7591 §2 metadata: checks types and values, fills in defaults, and rejects inconsistent
 * combinations. Unknown fields are ignored (§2: the server MUST ignore metadata it does not
 * understand), and nothing unrecognised is stored or echoed.
 */
export function validateClientMetadata(input: unknown): ClientMetadata {
  if (!isObject(input)) throw new InvalidClientMetadata('client metadata must be a JSON object');
  // Unknown fields are ignored, but not ones whose very names are malformed.
  if (Object.keys(input).some(hasControlCharacters)) throw new InvalidClientMetadata('metadata names must not contain control characters');

  // §2: grant_types defaults to authorization_code.
  const grantTypes = stringList(input, 'grant_types', InvalidClientMetadata) ?? ['authorization_code'];
  if (grantTypes.length === 0) throw new InvalidClientMetadata('grant_types must not be empty');
  const unknownGrants = grantTypes.filter((g) => !SUPPORTED_GRANT_TYPES.includes(g));
  if (unknownGrants.length > 0) throw new InvalidClientMetadata(`unsupported grant_types: ${unknownGrants.join(' ')}`);
  // A refresh token only comes out of another grant, so refresh_token alone would be a client that
  // can never do anything.
  if (grantTypes.every((g) => g === 'refresh_token')) {
    throw new InvalidClientMetadata('grant_types must include authorization_code, client_credentials or the device code grant');
  }
  const authCode = grantTypes.includes('authorization_code');

  // §2.1: response_types and grant_types must agree; `code` belongs to authorization_code, and no
  // other response type (implicit, hybrid) is offered. The default follows the grant types.
  const responseTypes = stringList(input, 'response_types', InvalidClientMetadata) ?? (authCode ? ['code'] : []);
  const unknownResponses = responseTypes.filter((r) => r !== 'code');
  if (unknownResponses.length > 0) throw new InvalidClientMetadata(`unsupported response_types: ${unknownResponses.join(' ')}`);
  if (responseTypes.includes('code') !== authCode) {
    throw new InvalidClientMetadata('response_types "code" and grant_types "authorization_code" must be registered together');
  }

  const method = optionalString(input, 'token_endpoint_auth_method') ?? 'client_secret_basic';
  if (!(AUTH_METHODS as readonly string[]).includes(method)) {
    throw new InvalidClientMetadata(`token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`);
  }
  // RFC 6749 §4.4: the client credentials grant is for confidential clients only; a public client
  // has no credentials, so its "client credentials" would be a client_id anyone can read.
  if (method === 'none' && grantTypes.includes('client_credentials')) {
    throw new InvalidClientMetadata('client_credentials requires a confidential client (token_endpoint_auth_method must not be "none")');
  }

  const redirectUris = stringList(input, 'redirect_uris', InvalidRedirectUri) ?? [];
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new InvalidRedirectUri(`at most ${MAX_REDIRECT_URIS} redirect_uris may be registered`);
  for (const uri of redirectUris) checkRedirectUri(uri);
  // §2: clients using redirect-based flows must register their redirection URIs.
  if (authCode && redirectUris.length === 0) throw new InvalidRedirectUri('redirect_uris is required for the authorization_code grant');

  const name = (optionalString(input, 'client_name') ?? '').trim() || DEFAULT_CLIENT_NAME;
  if (name.length > MAX_CLIENT_NAME_LENGTH) throw new InvalidClientMetadata(`client_name must be at most ${MAX_CLIENT_NAME_LENGTH} characters`);
  // The name is shown to people on the approval pages and in logs; control characters have no place there.
  if (/\p{Cc}/u.test(name)) throw new InvalidClientMetadata('client_name must not contain control characters');

  let scopes: string[];
  try {
    scopes = parseScope(optionalString(input, 'scope'));
  } catch (err) {
    throw err instanceof OAuthError ? new InvalidClientMetadata(err.description) : err;
  }
  if (scopes.length === 0) scopes = [...DEFAULT_SCOPES];
  const refused = scopes.filter((s) => !REGISTRABLE_SCOPES.includes(s));
  if (refused.length > 0) {
    throw new InvalidClientMetadata(`scope not available to registered clients: ${refused.join(' ')} (allowed: ${REGISTRABLE_SCOPES.join(' ')})`);
  }

  return {
    client_name: name,
    redirect_uris: redirectUris,
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: method as ClientAuthMethod,
    scope: formatScope(scopes),
  };
}

/**
 * RFC 6749 §3.1.2: absolute, no fragment. Only https, or http to a loopback address (RFC 8252 §7.3),
 * so an authorization code never travels in clear over a network. The URI is stored as sent, because
 * redirect URIs are later compared as exact strings.
 */
function checkRedirectUri(uri: string): void {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) throw new InvalidRedirectUri(`redirect URIs must be at most ${MAX_REDIRECT_URI_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new InvalidRedirectUri(`redirect URI is not an absolute URI: "${uri}"`);
  }
  // `includes` rather than url.hash: a bare trailing "#" parses to an empty hash.
  if (uri.includes('#')) throw new InvalidRedirectUri(`redirect URI must not contain a fragment: "${uri}"`);
  if (url.username || url.password) throw new InvalidRedirectUri(`redirect URI must not contain credentials: "${uri}"`);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return;
  throw new InvalidRedirectUri(`redirect URI must use https, or http on a loopback address (127.0.0.1, [::1], localhost): "${uri}"`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// JSON null is read as "not sent": some client libraries serialise unset fields that way.
function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidClientMetadata(`${key} must be a string`);
  if (hasControlCharacters(value)) throw new InvalidClientMetadata(`${key} must not contain control characters`);
  return value;
}

/** An array of strings, duplicates removed in order; undefined when absent. */
function stringList(input: Record<string, unknown>, key: string, ErrorType: new (description: string) => OAuthError): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string')) throw new ErrorType(`${key} must be an array of strings`);
  // Checked before any URL parsing: the WHATWG parser silently drops tabs and newlines, so a URI with
  // them would pass and then be stored as sent.
  if (value.some(hasControlCharacters)) throw new ErrorType(`${key} must not contain control characters`);
  return [...new Set(value)];
}
