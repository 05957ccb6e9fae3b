// Sets up grants for race tests through the services (codes issued, device codes approved), so each
// repetition starts from a known state quickly; everything raced is then done over real HTTP.
import { randomUUID } from 'node:crypto';
import type { OAuthClient, User } from '../../src/db/client.js';
import { generateClientSecret } from '../../src/services/clients.js';
import { DEVICE_GRANT, postForm } from './oauth.js';
import type { TestServer } from './server.js';

export const req = { ip: '127.0.0.1', userAgent: 'race-test' };
export const SCOPES = ['read', 'offline_access'];

export interface Tokens {
  access_token: string;
  refresh_token: string;
}

export interface Introspector {
  clientId: string;
  secret: string;
}

/** A confidential client that acts as the resource server asking /oauth/introspect. */
export async function createIntrospector(server: TestServer): Promise<Introspector> {
  const { secret, hash } = generateClientSecret();
  const clientId = `rs-${randomUUID()}`;
  await server.authgate.db.oAuthClient.create({ data: { clientId, name: clientId, clientType: 'confidential', clientSecretHash: hash, allowedScopes: 'read' } });
  return { clientId, secret };
}

export async function isActive(server: TestServer, rs: Introspector, token: string): Promise<boolean> {
  const res = await postForm(`${server.url}/oauth/introspect`, { token, client_id: rs.clientId, client_secret: rs.secret });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${res.text}`);
  return res.json.active === true;
}

/** A fresh user and a fresh public client with the code and device flows, so each repetition is isolated. */
export async function freshGrantParties(server: TestServer): Promise<{ user: User; client: OAuthClient }> {
  const db = server.authgate.db;
  const user = await db.user.create({ data: { username: `u-${randomUUID()}` } });
  const client = await db.oAuthClient.create({
    data: {
      clientId: randomUUID(),
      name: 'race client',
      clientType: 'public',
      redirectUris: JSON.stringify(['http://127.0.0.1:9/cb']),
      allowedScopes: SCOPES.join(' '),
      enableAuthCodeFlow: true,
      enableDeviceFlow: true,
    },
  });
  return { user, client };
}

/** An authorization code as the consent page would issue it (consent recorded first). */
export async function issueCode(server: TestServer, user: User, client: OAuthClient): Promise<string> {
  const services = server.authgate.services;
  await services.consents.grant(user, client, SCOPES, req);
  return services.authorizationCodes.issueCode({ client, redirectUri: 'http://127.0.0.1:9/cb', scopes: SCOPES, resources: [] }, user, new Date(), req);
}

export function exchangeCode(server: TestServer, client: OAuthClient, code: string) {
  return postForm(`${server.url}/oauth/token`, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:9/cb', client_id: client.clientId });
}

export function refresh(server: TestServer, client: OAuthClient, refreshToken: string) {
  return postForm(`${server.url}/oauth/token`, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId });
}

export function pollDevice(server: TestServer, client: OAuthClient, deviceCode: string) {
  return postForm(`${server.url}/oauth/token`, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: client.clientId });
}

export async function tokensFromCode(server: TestServer, user: User, client: OAuthClient): Promise<Tokens> {
  const res = await exchangeCode(server, client, await issueCode(server, user, client));
  if (res.status !== 200) throw new Error(`code exchange answered ${res.status}: ${res.text}`);
  return res.json as unknown as Tokens;
}

/** A device code the user has approved on the verification page (through the service the page calls). */
export async function approvedDeviceCode(server: TestServer, user: User, client: OAuthClient): Promise<string> {
  const services = server.authgate.services;
  const device = await services.deviceCodes.authorize(client, SCOPES.join(' '), [], req);
  await services.deviceCodes.decide(device.userCode, user, true, req);
  return device.deviceCode;
}
