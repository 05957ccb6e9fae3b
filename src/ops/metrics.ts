// The Prometheus metrics of one server instance, in prom-client: one Registry per instance (never
// prom-client's global one), so several servers in one process (tests) each count only their own.
// Names follow AuthGate's where the concept is the same, so its dashboards and alerts work unchanged.
//
// Counters are moved where the thing happens (the services, the audit pipeline, the limit store); HTTP
// metrics by the middleware in metrics-http.ts; gauges that need a database count by metrics-gauges.ts.
// With WEB_CONCURRENCY > 1, /metrics adds up every worker's registry (ops/cluster.ts): summed unless a
// metric names its `aggregator`, as the gauges of database counts do (each worker counts the same rows).
// A label value never comes from a request: grant types, results, reasons and route templates are fixed
// sets written in this code, and anything else is folded into "other" before it reaches a label.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/grant-types.js';

/** The caches (see the cache layer) whose hits and misses are counted. */
export type CacheName = 'client' | 'user' | 'token' | 'device_code';
const CACHE_NAMES: ReadonlySet<string> = new Set<CacheName>(['client', 'user', 'token', 'device_code']);

/** Why tokens were revoked, as AuthGate labels them. */
export type RevokeReason = 'user_request' | 'admin' | 'rotation' | 'security';
export type DeviceCodeValidation = 'success' | 'pending' | 'slow_down' | 'expired' | 'denied' | 'invalid';
export type TokenValidation = 'valid' | 'invalid' | 'expired';

// Label values that callers name in code: short snake_case words; anything else becomes "other".
const CODE_WORD = /^[a-z][a-z0-9_]{0,39}$/;
const word = (value: string) => (CODE_WORD.test(value) ? value : 'other');

/** AuthGate's grant_type label values: the device grant's URN as `device_code`. */
export function grantTypeLabel(grantType: string): string {
  if (grantType === DEVICE_CODE_GRANT_TYPE) return 'device_code';
  return ['authorization_code', 'refresh_token', 'client_credentials'].includes(grantType) ? grantType : 'other';
}

/** Seconds since `startNs` (from process.hrtime.bigint()). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/**
 * A counter with one label that the hottest requests move (cache hits, token validations: five times
 * an introspection). Counted in a Map and added to the prom-client counter whenever the counter is
 * read (a scrape, `get()`), through prom-client's collect hook: its own `inc()` hashes and validates a
 * labels object on every call, about 3 % of an introspection here. What a scrape shows is the same.
 */
function talliedCounter<L extends string>(config: { name: string; help: string; label: L; registers: Registry[] }): Counter<L> & { count(value: string): void } {
  const pending = new Map<string, number>();
  const counter = new Counter<L>({
    name: config.name,
    help: config.help,
    labelNames: [config.label],
    registers: config.registers,
    collect() {
      for (const [value, n] of pending) this.inc({ [config.label]: value } as Partial<Record<L, string>>, n);
      pending.clear();
    },
  });
  return Object.assign(counter, {
    count(value: string): void {
      pending.set(value, (pending.get(value) ?? 0) + 1);
    },
  });
}

export class Metrics {
  readonly registry = new Registry();
  private readonly r = [this.registry];

  // --- OAuth device flow (AuthGate) ---
  readonly deviceCodesTotal = new Counter({ name: 'oauth_device_codes_total', help: 'Device codes requested, by result', labelNames: ['result'] as const, registers: this.r });
  readonly deviceCodesAuthorized = new Counter({ name: 'oauth_device_codes_authorized_total', help: 'Device codes approved by their user', registers: this.r });
  readonly deviceCodeValidation = new Counter({
    name: 'oauth_device_code_validation_total',
    help: 'Device code polls at the token endpoint, by result (success, pending, slow_down, expired, denied, invalid)',
    labelNames: ['result'] as const,
    registers: this.r,
  });
  readonly deviceCodesActive = new Gauge({ name: 'oauth_device_codes_active', help: 'Device codes neither expired nor used (refreshed on an interval)', aggregator: 'max', registers: this.r });
  readonly deviceCodesPending = new Gauge({ name: 'oauth_device_codes_pending_authorization', help: 'Device codes waiting for their user (refreshed on an interval)', aggregator: 'max', registers: this.r });
  readonly deviceCodeAuthorizationDuration = new Histogram({
    name: 'oauth_device_code_authorization_duration_seconds',
    help: 'Time from a device code request to its approval',
    buckets: [5, 10, 30, 60, 120, 300, 600, 1800],
    registers: this.r,
  });

  // --- Tokens (AuthGate) ---
  readonly tokensIssued = new Counter({ name: 'oauth_tokens_issued_total', help: 'Tokens issued, by token_type (access, refresh) and grant_type', labelNames: ['token_type', 'grant_type'] as const, registers: this.r });
  readonly tokensRevoked = new Counter({ name: 'oauth_tokens_revoked_total', help: 'Tokens revoked, by reason (user_request, admin, rotation, security)', labelNames: ['reason'] as const, registers: this.r });
  readonly tokensRefreshed = new Counter({ name: 'oauth_tokens_refreshed_total', help: 'Refresh token grant requests, by result', labelNames: ['result'] as const, registers: this.r });
  readonly tokenValidation = talliedCounter({ name: 'oauth_token_validation_total', help: 'Token validations (tokeninfo, userinfo, introspection), by result', label: 'result', registers: this.r });
  readonly tokensActive = new Gauge({ name: 'oauth_tokens_active', help: 'Unexpired, unrevoked tokens by token_type (refreshed on an interval)', labelNames: ['token_type'] as const, aggregator: 'max', registers: this.r });
  readonly tokenGenerationDuration = new Histogram({ name: 'oauth_token_generation_duration_seconds', help: 'Time to sign and lay out a token set', labelNames: ['provider'] as const, registers: this.r });
  readonly tokenValidationDuration = new Histogram({ name: 'oauth_token_validation_duration_seconds', help: 'Time to validate a token', labelNames: ['provider'] as const, registers: this.r });

  // --- Authentication (AuthGate) ---
  /** Every request to the HTTP API sign-in user service, retries included, by outcome (accepted, rejected, or the failure kind). */
  readonly httpApiAuthRequests = new Counter({
    name: 'http_api_auth_requests_total',
    help: 'Requests to the HTTP API sign-in user service by outcome (accepted, rejected, or the failure kind)',
    labelNames: ['outcome'] as const,
    registers: this.r,
  });
  readonly authAttempts = new Counter({ name: 'auth_attempts_total', help: 'Credential checks, by method and result', labelNames: ['method', 'result'] as const, registers: this.r });
  readonly authLogin = new Counter({ name: 'auth_login_total', help: 'Sign-in requests, by auth_source and result', labelNames: ['auth_source', 'result'] as const, registers: this.r });
  readonly authLogout = new Counter({ name: 'auth_logout_total', help: 'Sign-outs', registers: this.r });
  readonly authOAuthCallback = new Counter({ name: 'auth_oauth_callback_total', help: 'External identity provider callbacks, by provider and result', labelNames: ['provider', 'result'] as const, registers: this.r });
  readonly authLoginDuration = new Histogram({ name: 'auth_login_duration_seconds', help: 'Time to complete a sign-in', labelNames: ['method'] as const, registers: this.r });
  readonly authExternalApiDuration = new Histogram({ name: 'auth_external_api_duration_seconds', help: 'Time of calls to an external authentication API', labelNames: ['provider'] as const, registers: this.r });

  // --- Sessions (AuthGate) ---
  readonly sessionsActive = new Gauge({ name: 'sessions_active', help: 'Signed-in sessions not yet ended (refreshed on an interval)', aggregator: 'max', registers: this.r });
  readonly sessionsCreated = new Counter({ name: 'sessions_created_total', help: 'Signed-in sessions started', registers: this.r });
  readonly sessionsExpired = new Counter({ name: 'sessions_expired_total', help: 'Signed-in sessions ended, by reason (timeout, idle_timeout, logout)', labelNames: ['reason'] as const, registers: this.r });
  readonly sessionsInvalidated = new Counter({ name: 'sessions_invalidated_total', help: 'Signed-in sessions ended by the server, by reason', labelNames: ['reason'] as const, registers: this.r });
  readonly sessionDuration = new Histogram({
    name: 'session_duration_seconds',
    help: 'How long signed-in sessions lasted (from sign-in to sign-out or expiry)',
    buckets: [60, 300, 600, 1800, 3600, 7200, 14400, 28800],
    registers: this.r,
  });

  // --- HTTP (AuthGate) ---
  readonly httpRequests = new Counter({ name: 'http_requests_total', help: 'HTTP requests, by method, route template (path) and status', labelNames: ['method', 'path', 'status'] as const, registers: this.r });
  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by method and route template (path)',
    labelNames: ['method', 'path'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: this.r,
  });
  readonly httpInFlight = new Gauge({ name: 'http_requests_in_flight', help: 'HTTP requests being served', registers: this.r });

  // --- Beyond AuthGate ---
  readonly rateLimitHits = new Counter({ name: 'rate_limit_hits_total', help: 'Requests or attempts refused by a rate or guessing limit, by limit', labelNames: ['limit'] as const, registers: this.r });
  /** Limit checks that could not reach their store; each was answered by RATE_LIMIT_FAIL_CLOSED's policy. */
  readonly rateLimitBackendErrors = new Counter({
    name: 'rate_limit_backend_errors_total',
    help: 'Rate and attempt limit checks that failed because the limit store (Redis) could not be reached',
    labelNames: ['limiter', 'policy'] as const,
    registers: this.r,
  });
  /**
   * Audit events that never reached the table, by reason: `buffer_full` (the writer fell behind),
   * `write_failed` (the database refused the row itself), `shutdown` (the database was away at exit).
   */
  readonly auditEventsDropped = new Counter({ name: 'audit_events_dropped_total', help: 'Audit events that could not be stored and were dropped', labelNames: ['reason'] as const, registers: this.r });
  /** Events waiting in memory for the next batch write. */
  readonly auditBufferDepth = new Gauge({ name: 'audit_buffer_depth', help: 'Audit events buffered in memory, not yet written', registers: this.r });
  /** 1 while the shared Redis connection is ready, 0 while it is down (reconnecting); absent without Redis. */
  readonly redisUp = new Gauge({ name: 'redis_up', help: 'Whether the Redis connection is ready (1) or down (0)', aggregator: 'min', registers: this.r });
  readonly dbQueryDuration = new Histogram({
    name: 'database_query_duration_seconds',
    help: 'Database operations through the ORM, by model and operation',
    labelNames: ['model', 'operation'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: this.r,
  });
  readonly dbQueryErrors = new Counter({ name: 'database_query_errors_total', help: 'Failed database counts while refreshing gauges, by operation', labelNames: ['operation'] as const, registers: this.r });
  readonly cacheHits = talliedCounter({ name: 'cache_hits_total', help: 'Cache lookups answered from the cache, by cache (client, user, token)', label: 'cache', registers: this.r });
  readonly cacheMisses = talliedCounter({ name: 'cache_misses_total', help: 'Cache lookups that went to the database, by cache (client, user, token)', label: 'cache', registers: this.r });
  readonly cacheInvalidationsUnconfirmed = new Counter({
    name: 'cache_invalidations_unconfirmed_total',
    help: 'Instances that did not confirm a cache invalidation within CACHE_INVALIDATION_TIMEOUT, by cache',
    labelNames: ['cache'] as const,
    registers: this.r,
  });

  private processMetrics = false;

  /**
   * `record: false` (METRICS_ENABLED off: nothing serves this registry) makes every recorder of this
   * instance a no-op, so the requests pay nothing for figures no one can read. prom-client's own
   * `observe` and labelled `inc` validate and hash their labels on every call: moving them anyway cost
   * tokeninfo 6 % of its requests a second on the bench's 2-vCPU machine (8,693 against 9,227 in six
   * alternated rounds, every one in favour; about 7 µs of main-thread CPU a request).
   */
  constructor(opts: { record?: boolean } = {}) {
    if (opts.record !== false) return;
    const none = () => undefined;
    for (const metric of Object.values(this)) {
      if (metric instanceof Counter || metric instanceof Gauge || metric instanceof Histogram) {
        Object.assign(metric, { inc: none, dec: none, set: none, observe: none, count: none, startTimer: () => none });
      }
    }
  }

  /** Process metrics (CPU, memory, handles, GC) and event-loop lag, for this registry. Once. */
  collectProcessMetrics(): void {
    if (this.processMetrics) return;
    this.processMetrics = true;
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
  }

  // --- The small API other modules call (cheap: one counter move each) ---

  /** A request or attempt refused by a limit: `limit` names it in code (`token`, `login`, `login_account`, ...). */
  rateLimitHit(limit: string): void {
    this.rateLimitHits.inc({ limit: word(limit) });
  }

  cacheHit(cache: CacheName): void {
    this.cacheHits.count(CACHE_NAMES.has(cache) ? cache : 'other');
  }

  cacheMiss(cache: CacheName): void {
    this.cacheMisses.count(CACHE_NAMES.has(cache) ? cache : 'other');
  }

  /** `instances` receivers of an invalidation of `cache` did not confirm it in time. */
  cacheInvalidationUnconfirmed(cache: CacheName, instances: number): void {
    this.cacheInvalidationsUnconfirmed.inc({ cache: CACHE_NAMES.has(cache) ? cache : 'other' }, instances);
  }

  /** An external identity provider's callback ended (`provider`: github, gitea, microsoft, gitlab, ...). */
  oauthCallback(provider: string, result: 'success' | 'error'): void {
    this.authOAuthCallback.inc({ provider: word(provider), result });
  }

  /** Starts timing a call to an external authentication API; call the returned function when it ends. */
  externalApiTimer(provider: string): () => void {
    const end = this.authExternalApiDuration.startTimer({ provider: word(provider) });
    return () => void end();
  }

  tokensIssuedFor(grantType: string, withRefresh: boolean): void {
    const grant_type = grantTypeLabel(grantType);
    this.tokensIssued.inc({ token_type: 'access', grant_type });
    if (withRefresh) this.tokensIssued.inc({ token_type: 'refresh', grant_type });
  }

  tokensRevokedFor(reason: RevokeReason, count: number): void {
    if (count > 0) this.tokensRevoked.inc({ reason }, count);
  }

  /** A signed-in session ended; `startedAt` is its sign-in time (ms since epoch), when known. */
  sessionEnded(kind: { expired: 'timeout' | 'idle_timeout' | 'logout' } | { invalidated: string }, startedAt?: unknown): void {
    if ('expired' in kind) this.sessionsExpired.inc({ reason: kind.expired });
    else this.sessionsInvalidated.inc({ reason: word(kind.invalidated) });
    if (typeof startedAt === 'number' && Number.isFinite(startedAt)) this.sessionDuration.observe(Math.max(0, (Date.now() - startedAt) / 1000));
  }
}
