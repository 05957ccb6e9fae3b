// Calling /graphql over real HTTP as the different kinds of callers, and obtaining their credentials
// through the real flows (device flow for user tokens, client credentials for service accounts).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type DocumentNode } from 'graphql';
import { ScriptedBrowser } from './browser.js';
import { DEVICE_GRANT, postForm } from './oauth.js';
import { ADMIN_PASSWORD, type TestServer } from './server.js';

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  data?: T | null;
  errors?: { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[];
  /** The raw body, for responses that are not GraphQL JSON. */
  text: string;
}

export type Operation<T, V> = TypedDocumentNode<T, V> | DocumentNode | string;

export interface CallOptions {
  /** An access token sent as Bearer. */
  token?: string;
  /** A signed-in browser: its cookies are sent. */
  browser?: ScriptedBrowser;
  headers?: Record<string, string>;
  /** Override the JSON body entirely (bad-input tests). */
  rawBody?: string;
  method?: 'GET' | 'POST';
}

export async function gql<T = Record<string, any>, V = Record<string, unknown>>( // eslint-disable-line @typescript-eslint/no-explicit-any
  server: TestServer,
  operation: Operation<T, V>,
  variables?: V,
  opts: CallOptions = {},
): Promise<GraphQLResponse<T>> {
  const query = typeof operation === 'string' ? operation : print(operation);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let path = '/graphql';
  const init: RequestInit = { method: opts.method ?? 'POST', headers };
  if (init.method === 'GET') {
    path += `?${new URLSearchParams({ query, ...(variables ? { variables: JSON.stringify(variables) } : {}) })}`;
    delete headers['content-type'];
  } else {
    init.body = opts.rawBody ?? JSON.stringify({ query, variables });
  }
  const res = opts.browser ? await opts.browser.fetch(path, init) : await fetch(new URL(path, server.url), init);
  const text = await res.text();
  let json: { data?: T; errors?: GraphQLResponse<T>['errors'] } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: the test looks at `text`
  }
  return { status: res.status, headers: res.headers, data: json.data, errors: json.errors, text };
}

/** The error codes of a response, in order. */
export function codes(res: GraphQLResponse<unknown>): (string | undefined)[] {
  return (res.errors ?? []).map((e) => e.extensions?.code);
}

export interface DeviceTokens {
  access_token: string;
  refresh_token?: string;
  scope: string;
}

/**
 * A user token through the device flow: the seeded CLI client asks, the user signs in through the
 * pages and approves the code, the client polls once.
 */
export async function deviceFlowToken(
  server: TestServer,
  opts: { scope: string; username?: string; password?: string; clientId?: string },
): Promise<DeviceTokens> {
  const clientId = opts.clientId ?? server.cliClientId;
  const device = await postForm(`${server.url}/oauth/device/code`, { client_id: clientId, scope: opts.scope });
  if (device.status !== 200) throw new Error(`device authorization failed: ${device.text}`);
  const browser = new ScriptedBrowser(server.url);
  const login = await browser.login(opts.username ?? 'admin', opts.password ?? ADMIN_PASSWORD);
  if (login.status !== 302) throw new Error(`login failed: ${login.status}`);
  const confirm = await browser.submit(await browser.get('/device'), '/device/verify', { user_code: String(device.json.user_code) });
  await browser.submit(confirm, '/device/verify', { action: 'approve' });
  const res = await postForm(`${server.url}/oauth/token`, { client_id: clientId, grant_type: DEVICE_GRANT, device_code: String(device.json.device_code) });
  if (res.status !== 200) throw new Error(`device token failed: ${res.text}`);
  return res.json as unknown as DeviceTokens;
}

/** A client_credentials token for a confidential client. */
export async function clientCredentialsToken(server: TestServer, clientId: string, secret: string, scope: string): Promise<{ status: number; token?: string; error?: string }> {
  const res = await postForm(
    `${server.url}/oauth/token`,
    { grant_type: 'client_credentials', scope },
    { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}` },
  );
  return { status: res.status, token: res.json.access_token as string | undefined, error: res.json.error as string | undefined };
}

/** A browser signed in through POST /login (with the CSRF token from the form). */
export async function signedInBrowser(server: TestServer, username = 'admin', password = ADMIN_PASSWORD): Promise<ScriptedBrowser> {
  const browser = new ScriptedBrowser(server.url);
  const login = await browser.login(username, password);
  if (login.status !== 302) throw new Error(`login failed: ${login.status}`);
  return browser;
}
