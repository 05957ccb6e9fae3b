// The HTTP API sign-in source (AuthGate's AUTH_MODE=http_api): a username and password are POSTed as
// JSON to the configured user service, which answers {"success","user_id","email","full_name"}.
//
// Requests are authenticated the way AuthGate's user services already verify them (AuthGate signs with
// github.com/appleboy/go-httpclient):
// - simple: the shared secret in one header (HTTP_API_AUTH_HEADER, default X-API-Secret);
// - hmac:   X-Signature = lowercase hex HMAC-SHA256(secret, timestamp + METHOD + path[?query] + body),
//           X-Timestamp = Unix seconds, X-Nonce = a fresh UUID. The string is plain concatenation, no
//           separators; the path is the URL's decoded path, the query as written. Every attempt, retries
//           included, gets its own timestamp and nonce, so the service may refuse stale or replayed requests.
//
// One call is bounded by HTTP_API_TIMEOUT as a whole (retries and backoff included): a person is waiting
// on the login page. Network errors, 5xx and 429 are retried with exponential backoff; any other answer
// is final. Redirects are never followed (the password would go wherever the redirect points).
// Failures are logged with their status and reason; the request body (the password) never is.
import { createHmac, randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpApiConfig } from '../config/env.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';

/** What the user service says about a person it knows. */
export interface ExternalIdentity {
  /** The service's own id for the person (AuthGate's external_id): stable across username changes. */
  userId: string;
  email: string | null;
  fullName: string;
}

export type HttpApiVerdict =
  | { accepted: true; identity: ExternalIdentity; status: number; attempts: number }
  /** The service answered and refused: success:false, or a 4xx other than 429. */
  | { accepted: false; status: number; attempts: number };

export type HttpApiFailure = 'timeout' | 'network' | 'server_error' | 'rate_limited' | 'redirect' | 'malformed_response';

/** The user service could not give an answer: nothing is known about the password. */
export class HttpApiUnavailable extends Error {
  override name = 'HttpApiUnavailable';
  constructor(
    readonly failure: HttpApiFailure,
    readonly status: number | undefined,
    readonly attempts: number,
    detail: string,
  ) {
    super(detail);
  }
}

// A sign-in answer is a few hundred bytes; anything much larger is not one.
const MAX_RESPONSE_BYTES = 64 * 1024;

interface RawResponse {
  status: number;
  body: string;
}

/** One attempt's outcome: a final answer, or a failure that may be retried. */
type Attempt = { final: HttpApiVerdict } | { retry: HttpApiUnavailable } | { fail: HttpApiUnavailable };

export class HttpApiClient {
  private readonly url: URL;
  /** The path as signed: decoded (Go's URL.Path, what the service reads back), plus "?" and the raw query when there is one. */
  private readonly signedPath: string;

  constructor(
    private readonly config: HttpApiConfig,
    private readonly logger: Logger,
    private readonly metrics: Pick<Metrics, 'httpApiAuthRequests' | 'externalApiTimer'>,
  ) {
    this.url = new URL(config.url);
    this.signedPath = decodedPath(this.url.pathname) + (this.url.search.length > 1 ? this.url.search : '');
  }

  /** Where requests go, without the query (which may carry a key): for logs and audit. */
  get endpoint(): string {
    return `${this.url.origin}${this.url.pathname}`;
  }

  /**
   * Asks the user service about a username and password. Resolves with its verdict; rejects with
   * HttpApiUnavailable when no verdict came within HTTP_API_TIMEOUT (every retry spent, a timeout, a
   * redirect, an answer that is not the documented JSON).
   */
  async verify(username: string, password: string): Promise<HttpApiVerdict> {
    const done = this.metrics.externalApiTimer('http_api');
    try {
      return await this.verifyWithRetries(username, password);
    } finally {
      done();
    }
  }

  private async verifyWithRetries(username: string, password: string): Promise<HttpApiVerdict> {
    const body = JSON.stringify({ username, password });
    const started = Date.now();
    const deadline = started + this.config.timeoutMs;
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    let last: HttpApiUnavailable | undefined;
    for (let attempt = 1; attempt <= this.config.maxRetries + 1; attempt++) {
      if (attempt > 1) {
        const delay = Math.min(this.config.retryDelayMs * 2 ** (attempt - 2), this.config.maxRetryDelayMs);
        // Waiting past the deadline would only end in a timeout: give the person the real reason now.
        if (Date.now() + delay >= deadline) break;
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          break;
        }
      }
      const outcome = await this.attempt(body, attempt, signal);
      if ('final' in outcome) {
        this.metrics.httpApiAuthRequests.inc({ outcome: outcome.final.accepted ? 'accepted' : 'rejected' });
        return outcome.final;
      }
      const failure = 'retry' in outcome ? outcome.retry : outcome.fail;
      this.metrics.httpApiAuthRequests.inc({ outcome: failure.failure });
      this.logger.warn('the sign-in user service failed', {
        endpoint: this.endpoint,
        attempt,
        failure: failure.failure,
        status: failure.status,
        detail: failure.message,
        elapsed_ms: Date.now() - started,
        will_retry: 'retry' in outcome && attempt <= this.config.maxRetries,
      });
      if ('fail' in outcome) throw outcome.fail;
      last = outcome.retry;
    }
    throw last ?? new HttpApiUnavailable('timeout', undefined, 0, `no answer within ${this.config.timeoutMs} ms`);
  }

  private async attempt(body: string, attempt: number, signal: AbortSignal): Promise<Attempt> {
    let res: RawResponse;
    try {
      res = await this.post(body, this.authHeaders(body), signal);
    } catch (err) {
      if (signal.aborted) return { fail: new HttpApiUnavailable('timeout', undefined, attempt, `no answer within ${this.config.timeoutMs} ms`) };
      if (err instanceof HttpApiUnavailable) return { fail: new HttpApiUnavailable(err.failure, err.status, attempt, err.message) };
      return { retry: new HttpApiUnavailable('network', undefined, attempt, networkReason(err)) };
    }
    const { status } = res;
    if (status === 429) return { retry: new HttpApiUnavailable('rate_limited', status, attempt, 'the user service answered 429 Too Many Requests') };
    if (status >= 500) return { retry: new HttpApiUnavailable('server_error', status, attempt, `the user service answered ${status}`) };
    if (status >= 300 && status < 400) return { fail: new HttpApiUnavailable('redirect', status, attempt, `the user service answered ${status} (a redirect, not followed)`) };
    // A 4xx is a refusal (AuthGate's reading): wrong credentials, or this server's request refused. Either
    // way the person is not signed in, and it counts against the guessing limits like a wrong password.
    if (status >= 400 || status < 200) return { final: { accepted: false, status, attempts: attempt } };
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      return { fail: new HttpApiUnavailable('malformed_response', status, attempt, `the user service answered ${status} with a body that is not JSON`) };
    }
    const answer = readAnswer(parsed);
    if (typeof answer === 'string') return { fail: new HttpApiUnavailable('malformed_response', status, attempt, answer) };
    if (!answer) return { final: { accepted: false, status, attempts: attempt } };
    return { final: { accepted: true, identity: answer, status, attempts: attempt } };
  }

  /** Fresh per attempt: a retry is a new request with its own timestamp and nonce. */
  private authHeaders(body: string): Record<string, string> {
    const auth = this.config.auth;
    if (auth.mode === 'simple') return { [auth.header]: auth.secret };
    if (auth.mode === 'hmac') {
      const timestamp = String(Math.floor(Date.now() / 1000));
      return {
        'X-Signature': signRequest(auth.secret, timestamp, 'POST', this.signedPath, body),
        'X-Timestamp': timestamp,
        'X-Nonce': randomUUID(),
      };
    }
    return {};
  }

  private post(body: string, auth: Record<string, string>, signal: AbortSignal): Promise<RawResponse> {
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...auth };
    if (this.config.insecureSkipVerify && this.url.protocol === 'https:') return postSkippingVerification(this.url, headers, body, signal);
    return postWithFetch(this.url, headers, body, signal);
  }
}

/** AuthGate's (go-httpclient's) HMAC: lowercase hex HMAC-SHA256 over timestamp + method + path + body. */
export function signRequest(secret: string, timestamp: string, method: string, path: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}${method}${path}${body}`).digest('hex');
}

/**
 * The documented answer: {"success": true, "user_id": "...", "email": "...", "full_name": "..."} or
 * {"success": false, ...}. Returns the identity, false for a refusal, or why the body is not that.
 */
function readAnswer(value: unknown): ExternalIdentity | false | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the user service answered JSON that is not an object';
  const answer = value as Record<string, unknown>;
  if (answer.success === false) return false;
  if (answer.success !== true) return 'the user service answer has no boolean "success"';
  const rawId = answer.user_id;
  const userId = typeof rawId === 'number' && Number.isSafeInteger(rawId) ? String(rawId) : typeof rawId === 'string' ? rawId.trim() : '';
  if (!userId) return 'the user service answered success without a "user_id"';
  if (userId.length > 255 || /\p{Cc}/u.test(userId)) return 'the user service answered a "user_id" that is too long or has control characters';
  const text = (field: string): string | undefined | null => {
    const v = answer[field];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'string' ? v.trim() : null;
  };
  const email = text('email');
  const fullName = text('full_name');
  if (email === null) return 'the user service answered an "email" that is not a string';
  if (fullName === null) return 'the user service answered a "full_name" that is not a string';
  return { userId, email: email || null, fullName: fullName ?? '' };
}

function decodedPath(pathname: string): string {
  try {
    return decodeURIComponent(pathname);
  } catch {
    return pathname;
  }
}

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? (err as { code?: string }).code;
  const message = cause?.message ?? (err as Error).message ?? String(err);
  return code ? `${code}: ${message}` : message;
}

async function postWithFetch(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<RawResponse> {
  const res = await fetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
  if (!res.body) return { status: res.status, body: '' };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw new HttpApiUnavailable('malformed_response', res.status, 0, `the user service answered more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return { status: res.status, body: Buffer.concat(chunks).toString('utf8') };
}

// HTTP_API_INSECURE_SKIP_VERIFY (outside production only): fetch takes no TLS options without the
// undici package, so this one case goes through node:https, bounded by the same signal.
function postSkippingVerification(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, rejectUnauthorized: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy();
          reject(new HttpApiUnavailable('malformed_response', res.statusCode, 0, `the user service answered more than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
