// Consent: one UserAuthorization per user and client, holding every scope the user has granted it.
import type { Db, OAuthClient, User } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { forUpdate, sqlBool, writeTransaction, type Dialect, type Tx } from '../db/transactions.js';
import { formatScope, parseScope, scopesOutside } from '../domain/scopes.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

export class ConsentService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly opts: { remember: boolean; dialect: Dialect },
  ) {}

  /** True when the page must be shown: remembering is off, nothing was granted, or more is asked than was granted. */
  async needsConsent(user: User, client: OAuthClient, scopes: string[]): Promise<boolean> {
    if (!this.opts.remember) return true;
    const existing = await this.db.userAuthorization.findUnique({ where: { userId_clientId: { userId: user.id, clientId: client.id } } });
    if (!existing || existing.revokedAt) return true;
    return scopesOutside(scopes, parseScope(existing.scopes)).length > 0;
  }

  /** Records a grant; scopes accumulate (a narrower request later does not take back what was granted). */
  async grant(user: User, client: OAuthClient, scopes: string[], req: RequestInfo): Promise<void> {
    const merged = await inConsentTransaction(this.db, this.opts.dialect, (tx) => mergeConsent(tx, this.opts.dialect, user.id, client.id, scopes));
    this.audit.record({
      eventType: 'CONSENT_GRANTED',
      actor: { userId: user.id, username: user.username },
      clientId: client.clientId,
      request: req,
      details: { scope: merged },
    });
  }
}

/**
 * Read-merge-write of the user's authorization for a client, inside the caller's transaction (the
 * consent page, a device approval). The row is locked for the merge on PostgreSQL, so two approvals at
 * once cannot drop each other's scopes. Returns the merged scope.
 */
export async function mergeConsent(tx: Tx, dialect: Dialect, userId: string, clientId: string, scopes: string[]): Promise<string> {
  const rows = await tx.$queryRaw<{ scopes: string; revoked: unknown }[]>`
    SELECT "scopes", CASE WHEN "revokedAt" IS NULL THEN 0 ELSE 1 END AS "revoked" FROM "user_authorizations"
    WHERE "userId" = ${userId} AND "clientId" = ${clientId}${forUpdate(dialect)}`;
  const existing = rows[0];
  // A withdrawn consent is not revived: only what is granted now counts.
  const kept = existing && !sqlBool(existing.revoked) ? parseScope(existing.scopes) : [];
  const merged = formatScope([...kept, ...scopes]);
  await tx.userAuthorization.upsert({
    where: { userId_clientId: { userId, clientId } },
    create: { userId, clientId, scopes: merged },
    update: { scopes: merged, revokedAt: null, grantedAt: new Date() },
  });
  return merged;
}

/**
 * A write transaction that may create the authorization row: two first-time approvals at once both
 * find no row to lock, and one insert loses on the unique key; running it again finds the row.
 */
export async function inConsentTransaction<T>(db: Db, dialect: Dialect, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await writeTransaction(db, dialect, fn);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return writeTransaction(db, dialect, fn);
  }
}
