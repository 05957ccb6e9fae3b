// GET /.well-known/jwks.json: the public keys that verify our tokens. Empty for HS256: a shared
// secret is never published.
import type { Context } from 'koa';
import type { JwtSigner } from '../../keys/jwt.js';

export function jwksEndpoint(signer: JwtSigner) {
  // Serialised once per key set: keys another instance started signing with join after a reload.
  let version = signer.keysVersion;
  let body = JSON.stringify(signer.jwks());
  return async function jwks(ctx: Context): Promise<void> {
    if (signer.keysVersion !== version) {
      version = signer.keysVersion;
      body = JSON.stringify(signer.jwks());
    }
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.type = 'application/json';
    ctx.body = body;
  };
}
