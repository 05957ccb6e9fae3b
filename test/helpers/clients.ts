// Registers OAuth clients directly in the test server's database.
import { randomUUID } from 'node:crypto';
import { generateClientSecret } from '../../src/services/clients.js';
import type { TestServer } from './server.js';

export interface TestClient {
  clientId: string;
  clientSecret?: string;
  redirectUri: string;
}

export async function createClient(
  server: TestServer,
  opts: {
    type?: 'public' | 'confidential';
    scopes?: string;
    authCode?: boolean;
    clientCredentials?: boolean;
    device?: boolean;
    redirectUris?: string[];
    tokenProfile?: 'short' | 'standard' | 'long';
    name?: string;
  } = {},
): Promise<TestClient> {
  const type = opts.type ?? 'public';
  const secret = type === 'confidential' ? generateClientSecret() : undefined;
  const redirectUris = opts.redirectUris ?? ['http://127.0.0.1:9/callback'];
  const client = await server.authgate.db.oAuthClient.create({
    data: {
      clientId: randomUUID(),
      clientSecretHash: secret?.hash ?? null,
      name: opts.name ?? `Test ${type} client`,
      clientType: type,
      redirectUris: JSON.stringify(redirectUris),
      allowedScopes: opts.scopes ?? 'openid profile email offline_access read write',
      enableAuthCodeFlow: opts.authCode ?? true,
      enableClientCredentials: opts.clientCredentials ?? false,
      enableDeviceFlow: opts.device ?? false,
      tokenProfile: opts.tokenProfile ?? 'standard',
    },
  });
  return { clientId: client.clientId, clientSecret: secret?.secret, redirectUri: redirectUris[0]! };
}
