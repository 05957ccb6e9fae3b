// A client_credentials issuance as the token service hands it to the group commit's store
// (db/issuance-writer.ts): a token row with fresh ids and a random hash, and its audit event.
import { randomUUID } from 'node:crypto';
import type { OAuthClient } from '../../src/db/client.js';
import type { Issuance } from '../../src/db/issuance-writer.js';
import { timeOrderedId } from '../../src/domain/ids.js';

export function clientIssuance(client: Pick<OAuthClient, 'id' | 'clientId'>, withAudit = true): Issuance {
  const id = timeOrderedId();
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    token: {
      id,
      tokenHash: randomUUID().replace(/-/g, '').repeat(2),
      jti: timeOrderedId(),
      scopes: 'read',
      audience: '',
      grantType: 'client_credentials',
      clientId: client.id,
      familyId: timeOrderedId(),
      expiresAt: new Date(now.getTime() + 3600_000),
      createdAt: now,
    },
    audit: withAudit
      ? { id: timeOrderedId(), eventType: 'ACCESS_TOKEN_ISSUED', severity: 'INFO', success: true, clientId: client.clientId, subjectType: 'token', subjectId: id, details: JSON.stringify({ grant_type: 'client_credentials' }), createdAt: now }
      : null,
  };
}
