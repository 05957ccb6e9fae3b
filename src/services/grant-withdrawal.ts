// What withdrawing a grant sweeps, shared by every revocation (family, consent, client, user). Run
// inside the revoker's transaction, after it has updated the parent row (see grant-validity.ts).
import type { Prisma } from '../db/client.js';
import type { Tx } from '../db/transactions.js';
import { revokeTokensWhere } from './tokens.js';

export interface Withdrawn {
  tokensRevoked: number;
  authorizationCodesRevoked: number;
  deviceCodesRevoked: number;
}

/**
 * Revokes the tokens matching `where`: refresh tokens first, then everything. The first statement
 * waits on any issuer that has row-locked one of those refresh tokens (rotating it), so the second,
 * which starts after that issuer committed, also finds what it inserted (READ COMMITTED snapshots are
 * per statement). That is what makes a family revocation safe without any parent row.
 */
export async function revokeGrantTokens(tx: Tx, where: Prisma.TokenWhereInput): Promise<number> {
  const refresh = await revokeTokensWhere(tx, { ...where, category: 'refresh' });
  return refresh + (await revokeTokensWhere(tx, where));
}

/** Codes that would still mint tokens: unused authorization codes and approved, uncollected device codes. */
export async function withdrawCodes(tx: Tx, where: { clientId?: string; userId?: string }, now: Date): Promise<Omit<Withdrawn, 'tokensRevoked'>> {
  const authorizationCodes = await tx.authorizationCode.updateMany({
    where: { ...where, usedAt: null, revokedAt: null, expiresAt: { gt: now } },
    data: { revokedAt: now },
  });
  const deviceCodes = await tx.deviceCode.updateMany({ where: { ...where, status: 'approved', revokedAt: null }, data: { revokedAt: now } });
  return { authorizationCodesRevoked: authorizationCodes.count, deviceCodesRevoked: deviceCodes.count };
}

/** Codes first (an issuer holding a code's row lock is waited for), then tokens. */
export async function withdrawGrant(tx: Tx, where: { clientId?: string; userId?: string }, now: Date): Promise<Withdrawn> {
  const codes = await withdrawCodes(tx, where, now);
  return { ...codes, tokensRevoked: await revokeGrantTokens(tx, where) };
}
