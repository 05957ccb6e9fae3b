// Consent: one UserAuthorization per user and client, holding every scope the user has granted it.
import type { Db, OAuthClient, User } from '../db/client.js';
import { formatScope, parseScope, scopesOutside } from '../domain/scopes.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

export class ConsentService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly opts: { remember: boolean },
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
    const key = { userId_clientId: { userId: user.id, clientId: client.id } };
    const existing = await this.db.userAuthorization.findUnique({ where: key });
    const kept = existing && !existing.revokedAt ? parseScope(existing.scopes) : [];
    const merged = formatScope([...kept, ...scopes]);
    await this.db.userAuthorization.upsert({
      where: key,
      create: { userId: user.id, clientId: client.id, scopes: merged },
      update: { scopes: merged, revokedAt: null, grantedAt: new Date() },
    });
    this.audit.record({
      eventType: 'CONSENT_GRANTED',
      actor: { userId: user.id, username: user.username },
      clientId: client.clientId,
      request: req,
      details: { scope: merged },
    });
  }
}
