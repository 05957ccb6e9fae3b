// Who is calling the GraphQL API, and the services a resolver may use. The viewer is decided once per
// request, before execution: a Bearer access token issued by this server, else the browser session.
import type { Db, OAuthClient, User } from '../db/client.js';
import { parseScope } from '../domain/scopes.js';
import type { Services } from '../services/index.js';
import type { RequestInfo } from '../services/request-context.js';
import type { AdminActor } from '../services/user-admin.js';
import type { Loaders } from './loaders.js';
import type { AuditStream } from './audit-stream.js';

/** The services the GraphQL face uses, and nothing else. */
export type GraphQLServices = Pick<Services, 'tokens' | 'userAdmin' | 'clientAdmin' | 'revocation' | 'tokenAdmin' | 'auditQuery' | 'account' | 'stats' | 'sessions'>;

export type Viewer =
  | {
      kind: 'user';
      user: User;
      /** `cookie`: a browser session from /login; `bearer`: an access token. */
      via: 'cookie' | 'bearer';
      /** The token's scopes; null for a browser session, which is not limited by scope. */
      scopes: string[] | null;
      /** Admin rights in this request: the admin role, and with a token also the `admin` scope. */
      isAdmin: boolean;
    }
  | {
      /** A client acting for itself (client_credentials). Only a service account with `admin` has rights. */
      kind: 'client';
      client: OAuthClient;
      via: 'bearer';
      scopes: string[];
      isAdmin: boolean;
    };

export interface GraphQLContext {
  viewer: Viewer | null;
  db: Db;
  services: GraphQLServices;
  /** Address and agent of the caller, for the audit log. */
  requestInfo: RequestInfo;
  /** The browser session making the request (its stored id, the SHA-256 of the cookie's); null with a token. */
  sessionId: string | null;
  /** Re-checks the caller's token or session (revoked, expired, ended, user disabled), for long-lived subscriptions. */
  viewerStillValid: () => Promise<boolean>;
  /** Audit events as they are written, for the `auditEvents` subscription (the server, not a request, ends the stream). */
  auditStream: Pick<AuditStream, 'subscribe'>;
  /** This request's batch loaders (loaders.ts). */
  loaders: Loaders;
}

export const ADMIN_SCOPE = 'admin';

export function cookieViewer(user: User): Viewer {
  return { kind: 'user', user, via: 'cookie', scopes: null, isAdmin: user.role === 'admin' };
}

/** The viewer behind an access token that `TokenService.validateAccessToken` accepted. */
export function bearerViewer(token: { scopes: string; user: User | null; client: OAuthClient }): Viewer {
  const scopes = parseScope(token.scopes);
  const adminScope = scopes.includes(ADMIN_SCOPE);
  if (token.user) return { kind: 'user', user: token.user, via: 'bearer', scopes, isAdmin: token.user.role === 'admin' && adminScope };
  const { client } = token;
  // Checked again here, not only at issuance: un-marking a service account ends its admin rights at once.
  const serviceAccount = client.isServiceAccount && client.clientType === 'confidential';
  return { kind: 'client', client, via: 'bearer', scopes, isAdmin: serviceAccount && adminScope };
}

/** Who does it, for the services' rules and the audit log. A service account is recorded by its client_id. */
export function actorOf(viewer: Viewer | null): AdminActor {
  if (!viewer) return { isAdmin: false };
  if (viewer.kind === 'user') return { userId: viewer.user.id, username: viewer.user.username, isAdmin: viewer.isAdmin };
  return { userId: null, username: `client:${viewer.client.clientId}`, isAdmin: viewer.isAdmin };
}
