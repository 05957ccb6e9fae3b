// Requests to identity providers: bounded by OAUTH_TIMEOUT, TLS checked unless OAUTH_INSECURE_SKIP_VERIFY
// (refused in production), redirects never followed (an endpoint that redirects is an error, so a
// provider cannot send us to a host nobody configured), answers size-limited and parsed strictly.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** What went wrong talking to a provider; `reason` is for the audit log, the message for people. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly reason: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface HttpOptions {
  timeoutMs: number;
  insecureSkipVerify: boolean;
}

const MAX_BODY = 1024 * 1024;

export async function providerRequest(
  url: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  opts: HttpOptions,
): Promise<{ status: number; contentType: string; text: string }> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : target.protocol === 'http:' ? httpRequest : undefined;
  if (!send) throw new ProviderError('bad_endpoint', 'The identity provider named an endpoint this server cannot use.');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'user-agent': 'AuthGate', ...init.headers };
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
    const req = send(
      target,
      { method: init.method ?? 'GET', headers, ...(target.protocol === 'https:' ? { rejectUnauthorized: !opts.insecureSkipVerify } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY) {
            req.destroy(new ProviderError('answer_too_large', 'The identity provider sent an answer that is too large.'));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new ProviderError('timeout', 'The identity provider did not answer in time. Please try again.')), opts.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) =>
      reject(err instanceof ProviderError ? err : new ProviderError('unreachable', 'The identity provider could not be reached. Please try again later.')),
    );
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

/** A JSON object from a provider, or ProviderError (status, non-JSON, not an object). */
export async function providerJson(
  url: string,
  init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  opts: HttpOptions,
  what: string,
): Promise<Record<string, unknown> | unknown[]> {
  const res = await providerRequest(url, { ...init, headers: { accept: 'application/json', ...init.headers } }, opts);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    throw new ProviderError(`${what}_malformed`, 'The identity provider sent an answer this server could not read.', res.status);
  }
  if (res.status < 200 || res.status >= 300) {
    const error = isObject(parsed) && typeof parsed.error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(parsed.error) ? parsed.error : undefined;
    throw new ProviderError(`${what}_http_${res.status}${error ? `_${error}` : ''}`.slice(0, 120), 'The identity provider refused the request. Please try again.', res.status);
  }
  if (!isObject(parsed) && !Array.isArray(parsed)) throw new ProviderError(`${what}_malformed`, 'The identity provider sent an answer this server could not read.', res.status);
  return parsed;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The authorization code exchanged at a token endpoint (RFC 6749 §4.1.3), client authenticated as asked. */
export async function exchangeCode(
  tokenUrl: string,
  params: { code: string; redirectUri: string; clientId: string; clientSecret: string; codeVerifier?: string; auth: 'basic' | 'post' },
  opts: HttpOptions,
): Promise<Record<string, unknown>> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: params.code, redirect_uri: params.redirectUri });
  if (params.codeVerifier) form.set('code_verifier', params.codeVerifier);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (params.auth === 'basic') {
    // RFC 6749 §2.3.1: form-encode each part before base64.
    const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
    headers.authorization = `Basic ${Buffer.from(`${enc(params.clientId)}:${enc(params.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', params.clientId);
    form.set('client_secret', params.clientSecret);
  }
  const answer = await providerJson(tokenUrl, { method: 'POST', headers, body: form.toString() }, opts, 'token');
  // GitHub answers 200 with {"error": ...} for a bad code.
  if (!isObject(answer) || typeof answer.error === 'string') {
    const error = isObject(answer) && typeof answer.error === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(answer.error) ? answer.error : 'malformed';
    throw new ProviderError(`token_${error}`.slice(0, 120), 'The identity provider refused the sign-in. Please try again.');
  }
  if (typeof answer.access_token !== 'string' || answer.access_token === '') throw new ProviderError('token_malformed', 'The identity provider sent an answer this server could not read.');
  return answer;
}
