// The one rule for "this grant may still mint tokens", checked inside every issuing transaction
// (authorization_code, device_code, refresh_token) before anything is written. client_credentials,
// with nothing to redeem and no user, checks the same client rule inside its INSERT (db/issuance-writer.ts).
//
// Why it cannot be outrun: every revocation first UPDATEs the parent row it withdraws (the client for
// "revoke all", the user when disabling, the user_authorization for a consent) and only then revokes
// tokens and codes. Issuance reads those same rows with FOR SHARE on PostgreSQL (shared locks, so
// issuers never wait for each other, only for a revoker). Either the issuer holds the lock first, and
// the revoker's later statements (READ COMMITTED: each statement sees what committed before it
// started) find the issued rows; or the revoker does, and the issuer, once it gets the lock, reads the
// revoked state (and its source code or token is already revoked). On SQLite the transaction holds
// the single write lock before this runs (db/transactions.ts), so the two simply run one after the other.
import { forShare, sqlBool, type Dialect, type Tx } from '../db/transactions.js';
import { InvalidClient, InvalidGrant, type OAuthError } from '../domain/errors.js';
import type { AuditEntry } from './audit.js';
import { clientAuthenticationFailure } from './clients.js';
import type { RequestInfo } from './request-context.js';

export interface GrantParents {
  /** OAuthClient row id. */
  clientId: string;
  /** User row id; null for client_credentials. */
  userId: string | null;
}

/**
 * What issuance answers when the client is found inactive or unapproved at the last moment (its request
 * authenticated against a copy, cached or read, from before the change): what authenticating the
 * client answers a moment later (clients.ts), so a request gets the same answer whichever side of the
 * change it falls on, on whichever instance.
 */
export const clientRefused = (): OAuthError => new InvalidClient();

/**
 * The audit event of that refusal: the one a refused authentication writes, with a reason that says the
 * credentials were accepted and the client was found refused by the issuing write.
 */
export const clientRefusedEvent = (clientId: string, request: RequestInfo | undefined): AuditEntry =>
  clientAuthenticationFailure(clientId, request, { reason: 'client_refused_at_issuance' });

/** Null when the grant is still valid; otherwise the error to answer. */
export async function lockAndCheckGrant(tx: Tx, dialect: Dialect, parents: GrantParents): Promise<OAuthError | null> {
  const lock = forShare(dialect);
  // Locks are taken in one order everywhere (client, user, authorization) so issuers and revokers cannot deadlock.
  const clients = await tx.$queryRaw<{ active: unknown; approvalStatus: string }[]>`
    SELECT "active", "approvalStatus" FROM "oauth_clients" WHERE "id" = ${parents.clientId}${lock}`;
  const client = clients[0];
  if (!client || !sqlBool(client.active) || client.approvalStatus !== 'approved') return clientRefused();
  if (parents.userId === null) return null;

  const users = await tx.$queryRaw<{ active: unknown }[]>`SELECT "active" FROM "users" WHERE "id" = ${parents.userId}${lock}`;
  if (!users[0] || !sqlBool(users[0].active)) return new InvalidGrant('the user is disabled');

  // Tokens issued before device approvals recorded consents have no authorization row: absence is not a
  // refusal, a withdrawn one is (the user must consent again, which clears revokedAt).
  const authorizations = await tx.$queryRaw<{ revoked: unknown }[]>`
    SELECT CASE WHEN "revokedAt" IS NULL THEN 0 ELSE 1 END AS "revoked" FROM "user_authorizations"
    WHERE "userId" = ${parents.userId} AND "clientId" = ${parents.clientId}${lock}`;
  if (authorizations[0] && sqlBool(authorizations[0].revoked)) return new InvalidGrant('the user has withdrawn this authorization');
  return null;
}
