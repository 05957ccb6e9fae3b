// Administering OAuth clients: create, edit every setting, rotate the secret, approve or reject
// self-registered clients, delete. Each change is one transaction together with its audit event;
// secrets are generated here, returned once and stored only as hashes.
import { randomUUID } from 'node:crypto';
import type { Db, OAuthClient, Prisma } from '../db/client.js';
import { BadInput, Conflict, NotFound } from '../domain/errors.js';
import type { Caches } from '../ops/cache.js';
import { KNOWN_SCOPES } from '../domain/scope-descriptions.js';
import { formatScope, parseScope } from '../domain/scopes.js';
import type { ApprovalStatus, ClientType, TokenProfile } from '../generated/sqlite/enums.js';
import type { AuditEntry, AuditLog } from './audit.js';
import { generateClientSecret, parseRedirectUris } from './clients.js';
import { MAX_REDIRECT_URIS } from './client-registration.js';
import type { RequestInfo } from './request-context.js';
import type { Actor } from './revocation.js';

type Tx = Prisma.TransactionClient;

export interface ClientFilter {
  search?: string | null;
  type?: ClientType | null;
  active?: boolean | null;
  status?: ApprovalStatus | null;
  statuses?: ApprovalStatus[] | null;
}

/** Every setting an administrator controls. On create, missing ones get defaults; on update, missing ones stay. */
export interface ClientSettings {
  name?: string | null;
  description?: string | null;
  clientType?: ClientType | null;
  redirectUris?: string[] | null;
  allowedScopes?: string[] | null;
  enableDeviceFlow?: boolean | null;
  enableAuthCodeFlow?: boolean | null;
  enableClientCredentials?: boolean | null;
  tokenProfile?: TokenProfile | null;
  active?: boolean | null;
  isServiceAccount?: boolean | null;
}

/** A client and, when one was just made, its secret: shown this once, never stored in clear. */
export interface ClientWithSecret {
  client: OAuthClient;
  clientSecret?: string;
}

const MAX_NAME_LENGTH = 100;
const MAX_DESCRIPTION_LENGTH = 1000;
const MAX_REDIRECT_URI_LENGTH = 2000;
// Schemes that would run or read something in the browser instead of delivering a redirect.
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:']);
// Settings whose change alters what tokens can do or how long they live: audited at WARNING.
const SENSITIVE_SETTINGS = new Set(['tokenProfile', 'isServiceAccount', 'allowedScopes', 'clientType', 'enableClientCredentials']);

export class ClientAdminService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly dialect: 'sqlite' | 'postgresql',
    private readonly caches: Caches,
  ) {}

  /** Once a client write has committed: its cached copies go (and cached token status, when `tokens`). */
  private async committed<T>(work: Promise<T>, client: (result: T) => OAuthClient, tokens = false): Promise<T> {
    const result = await work;
    await this.caches.clientChanged(client(result));
    if (tokens) await this.caches.tokensChanged();
    return result;
  }

  /** The Prisma filter for an admin's client search. */
  where(filter: ClientFilter): Prisma.OAuthClientWhereInput {
    const where: Prisma.OAuthClientWhereInput = {};
    const search = filter.search?.trim();
    if (search) {
      // SQLite's LIKE already ignores ASCII case and Prisma has no `mode` there; PostgreSQL needs ILIKE.
      const contains = this.dialect === 'postgresql' ? { contains: search, mode: 'insensitive' as const } : { contains: search };
      where.OR = [{ name: contains }, { clientId: contains }, { description: contains }];
    }
    if (filter.type) where.clientType = filter.type;
    if (filter.active != null) where.active = filter.active;
    if (filter.status) where.approvalStatus = filter.status;
    if (filter.statuses) where.AND = [{ approvalStatus: { in: filter.statuses } }];
    return where;
  }

  async find<Q extends { select?: unknown; include?: unknown }>(id: string, query?: Q): Promise<OAuthClient> {
    const client = await this.db.oAuthClient.findUnique({ ...(query as object), where: { id } });
    if (!client) throw new NotFound('no client with this id');
    return client;
  }

  async create(settings: ClientSettings, actor: Actor, req: RequestInfo): Promise<ClientWithSecret> {
    if (settings.name == null) throw new BadInput('A client needs a name.', 'name');
    const data = checkSettings({ ...DEFAULTS, ...withoutNulls(settings) });
    const secret = data.clientType === 'confidential' ? generateClientSecret() : undefined;
    const client = await this.db.$transaction(async (tx) => {
      const created = await tx.oAuthClient.create({
        data: { ...data, clientId: randomUUID(), clientSecretHash: secret?.hash ?? null, approvalStatus: 'approved', createdById: actor.userId ?? null },
      });
      await this.audit.recordIn(tx, {
        ...entry('CLIENT_CREATED', actor, created, req),
        severity: created.isServiceAccount ? 'WARNING' : 'INFO',
        details: describe(created),
      });
      return created;
    });
    return { client, clientSecret: secret?.secret };
  }

  /**
   * Changes any settings. Turning a public client confidential gives it a secret (returned once);
   * turning it public drops the secret. Checks apply to the resulting combination of settings.
   */
  async update(id: string, changes: ClientSettings, actor: Actor, req: RequestInfo): Promise<ClientWithSecret> {
    return this.committed(this.db.$transaction(async (tx) => {
      const before = await findOrThrow(tx, id);
      const merged = checkSettings({ ...currentSettings(before), ...withoutNulls(changes) });
      let secret: ReturnType<typeof generateClientSecret> | undefined;
      let clientSecretHash = before.clientSecretHash;
      if (merged.clientType === 'public') clientSecretHash = null;
      else if (before.clientType === 'public' || !before.clientSecretHash) {
        secret = generateClientSecret();
        clientSecretHash = secret.hash;
      }
      const client = await tx.oAuthClient.update({ where: { id }, data: { ...merged, clientSecretHash } });
      const diff = changedSettings(describe(before), describe(client));
      await this.audit.recordIn(tx, {
        ...entry('CLIENT_UPDATED', actor, client, req),
        severity: Object.keys(diff).some((k) => SENSITIVE_SETTINGS.has(k)) ? 'WARNING' : 'INFO',
        details: { ...diff, credential_generated: secret !== undefined },
      });
      return { client, clientSecret: secret?.secret };
    }), (result) => result.client);
  }

  /** Deletes a client and, by cascade, its tokens, consents and pending codes. */
  async delete(id: string, actor: Actor, req: RequestInfo): Promise<OAuthClient> {
    return this.committed(this.db.$transaction(async (tx) => {
      const client = await findOrThrow(tx, id);
      await tx.oAuthClient.delete({ where: { id } });
      await this.audit.recordIn(tx, { ...entry('CLIENT_DELETED', actor, client, req), severity: 'WARNING', details: describe(client) });
      return client;
    }), (client) => client, true);
  }

  /** A new secret for a confidential client; the old one stops working with this commit. */
  async rotateSecret(id: string, actor: Actor, req: RequestInfo): Promise<ClientWithSecret> {
    const secret = generateClientSecret();
    const client = await this.committed(this.db.$transaction(async (tx) => {
      const before = await findOrThrow(tx, id);
      if (before.clientType !== 'confidential') throw new BadInput('Only confidential clients have a secret.');
      const client = await tx.oAuthClient.update({ where: { id }, data: { clientSecretHash: secret.hash } });
      await this.audit.recordIn(tx, { ...entry('CLIENT_SECRET_ROTATED', actor, client, req), severity: 'WARNING', details: { client_name: client.name } });
      return client;
    }), (client) => client);
    return { client, clientSecret: secret.secret };
  }

  /** Lets a self-registered client that awaits approval obtain tokens. */
  approve(id: string, actor: Actor, req: RequestInfo): Promise<OAuthClient> {
    return this.decide(id, 'approved', actor, req);
  }

  /** Refuses a self-registered client; it stays unable to authenticate. */
  reject(id: string, actor: Actor, req: RequestInfo): Promise<OAuthClient> {
    return this.decide(id, 'rejected', actor, req);
  }

  private decide(id: string, decision: 'approved' | 'rejected', actor: Actor, req: RequestInfo): Promise<OAuthClient> {
    return this.committed(this.db.$transaction(async (tx) => {
      // Conditional update: of two concurrent decisions on one client exactly one wins.
      const { count } = await tx.oAuthClient.updateMany({ where: { id, approvalStatus: 'pending' }, data: { approvalStatus: decision } });
      const client = await findOrThrow(tx, id);
      if (count === 0) throw new Conflict(`This client is not awaiting approval (it is ${client.approvalStatus}).`);
      await this.audit.recordIn(tx, {
        ...entry(decision === 'approved' ? 'CLIENT_APPROVED' : 'CLIENT_REJECTED', actor, client, req),
        severity: 'WARNING',
        details: { client_name: client.name },
      });
      return client;
    }), (client) => client);
  }
}

type Settings = Required<{ [K in keyof ClientSettings]: NonNullable<ClientSettings[K]> }>;

const DEFAULTS: Settings = {
  name: '',
  description: '',
  clientType: 'confidential',
  redirectUris: [],
  allowedScopes: ['openid', 'profile', 'email'],
  enableDeviceFlow: false,
  enableAuthCodeFlow: true,
  enableClientCredentials: false,
  tokenProfile: 'standard',
  active: true,
  isServiceAccount: false,
};

function withoutNulls(settings: ClientSettings): Partial<Settings> {
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v != null)) as Partial<Settings>;
}

function currentSettings(client: OAuthClient): Settings {
  return {
    name: client.name,
    description: client.description,
    clientType: client.clientType,
    redirectUris: parseRedirectUris(client),
    allowedScopes: parseScope(client.allowedScopes),
    enableDeviceFlow: client.enableDeviceFlow,
    enableAuthCodeFlow: client.enableAuthCodeFlow,
    enableClientCredentials: client.enableClientCredentials,
    tokenProfile: client.tokenProfile,
    active: client.active,
    isServiceAccount: client.isServiceAccount,
  };
}

/** Validates a complete set of settings and converts it to the stored columns. */
function checkSettings(s: Settings) {
  const name = s.name.trim();
  if (name === '' || name.length > MAX_NAME_LENGTH) throw new BadInput(`A client name is 1 to ${MAX_NAME_LENGTH} characters.`, 'name');
  if (/\p{Cc}/u.test(name)) throw new BadInput('A client name must not contain control characters.', 'name');
  if (s.description.length > MAX_DESCRIPTION_LENGTH) throw new BadInput(`A description is at most ${MAX_DESCRIPTION_LENGTH} characters.`, 'description');
  const redirectUris = [...new Set(s.redirectUris)];
  if (redirectUris.length > MAX_REDIRECT_URIS) throw new BadInput(`At most ${MAX_REDIRECT_URIS} redirect URIs.`, 'redirectUris');
  for (const uri of redirectUris) checkRedirectUri(uri);
  const scopes = parseScope(s.allowedScopes.join(' '));
  const unknown = scopes.filter((scope) => !KNOWN_SCOPES.includes(scope));
  if (unknown.length > 0) throw new BadInput(`Unknown scopes: ${unknown.join(' ')} (known: ${KNOWN_SCOPES.join(' ')}).`, 'allowedScopes');
  if (s.enableAuthCodeFlow && redirectUris.length === 0) throw new BadInput('The authorization code flow needs at least one redirect URI.', 'redirectUris');
  // RFC 6749 §4.4: only a client that can keep a secret may act on its own behalf.
  if (s.enableClientCredentials && s.clientType !== 'confidential') throw new BadInput('The client credentials flow needs a confidential client.', 'enableClientCredentials');
  if (s.isServiceAccount && !(s.clientType === 'confidential' && s.enableClientCredentials)) {
    throw new BadInput('A service account must be a confidential client with the client credentials flow enabled.', 'isServiceAccount');
  }
  return {
    name,
    description: s.description.trim(),
    clientType: s.clientType,
    redirectUris: JSON.stringify(redirectUris),
    allowedScopes: formatScope(scopes),
    enableDeviceFlow: s.enableDeviceFlow,
    enableAuthCodeFlow: s.enableAuthCodeFlow,
    enableClientCredentials: s.enableClientCredentials,
    tokenProfile: s.tokenProfile,
    active: s.active,
    isServiceAccount: s.isServiceAccount,
  };
}

/**
 * RFC 6749 §3.1.2: an absolute URI without a fragment, compared later as an exact string. Unlike
 * self-registration, an administrator may register private-use schemes (RFC 8252 §7.1) and plain
 * http hosts; only schemes that would run something in the browser are refused.
 */
function checkRedirectUri(uri: string): void {
  if (uri.length > MAX_REDIRECT_URI_LENGTH) throw new BadInput(`A redirect URI is at most ${MAX_REDIRECT_URI_LENGTH} characters.`, 'redirectUris');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new BadInput(`"${uri.slice(0, 200)}" is not an absolute URI.`, 'redirectUris');
  }
  if (uri.includes('#')) throw new BadInput(`A redirect URI must not contain a fragment: "${uri}".`, 'redirectUris');
  if (url.username || url.password) throw new BadInput(`A redirect URI must not contain credentials: "${uri}".`, 'redirectUris');
  if (FORBIDDEN_SCHEMES.has(url.protocol)) throw new BadInput(`"${url.protocol}" URIs cannot be redirect URIs.`, 'redirectUris');
  if (/\s/.test(uri)) throw new BadInput('A redirect URI must not contain spaces.', 'redirectUris');
}

function entry(eventType: string, actor: Actor, client: OAuthClient, req: RequestInfo): AuditEntry {
  return {
    eventType,
    actor: { userId: actor.userId, username: actor.username },
    subject: { type: 'oauth_client', id: client.id },
    clientId: client.clientId,
    request: req,
  };
}

async function findOrThrow(tx: Tx, id: string): Promise<OAuthClient> {
  const client = await tx.oAuthClient.findUnique({ where: { id } });
  if (!client) throw new NotFound('no client with this id');
  return client;
}

/** The settings as audited (scopes in their stored form): never the secret hash. */
function describe(client: OAuthClient): Record<string, unknown> {
  return { ...currentSettings(client), allowedScopes: client.allowedScopes };
}

function changedSettings(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const diff: Record<string, unknown> = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = { before: before[key], after: after[key] };
  }
  return diff;
}
