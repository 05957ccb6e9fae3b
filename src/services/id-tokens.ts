// OpenID Connect ID Tokens (OIDC Core §2, §3.1.3.6). Claims beyond the required ones are released
// only for the scopes granted: profile → name, preferred_username, updated_at; email → email, email_verified.
import { createHash } from 'node:crypto';
import type { OAuthClient, User } from '../db/client.js';
import type { JwtSigner } from '../keys/jwt.js';

export function userClaims(user: User, scopes: string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.id };
  if (scopes.includes('profile')) {
    claims.name = user.fullName || user.username;
    claims.preferred_username = user.username;
    claims.updated_at = Math.floor(user.updatedAt.getTime() / 1000);
  }
  if (scopes.includes('email') && user.email) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  return claims;
}

/** at_hash: the left half of the SHA-256 of the access token, base64url (OIDC Core §3.1.3.6); all our algorithms use SHA-256. */
export function atHash(accessToken: string): string {
  const digest = createHash('sha256').update(accessToken).digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

export class IdTokenService {
  constructor(
    private readonly signer: JwtSigner,
    private readonly issuer: string,
  ) {}

  sign(input: { user: User; client: OAuthClient; scopes: string[]; accessToken: string; authTime?: Date; nonce?: string; lifetime: number }): Promise<string> {
    const now = new Date();
    return this.signer.sign(
      {
        ...userClaims(input.user, input.scopes),
        iss: this.issuer,
        aud: input.client.clientId,
        azp: input.client.clientId,
        at_hash: atHash(input.accessToken),
        ...(input.authTime ? { auth_time: Math.floor(input.authTime.getTime() / 1000) } : {}),
        ...(input.nonce ? { nonce: input.nonce } : {}),
      },
      { typ: 'JWT', issuedAt: now, expiresAt: new Date(now.getTime() + input.lifetime * 1000) },
    );
  }
}
