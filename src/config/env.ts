// Reads and validates the process environment into a typed Config. Every problem is a
// ConfigError naming the variable, so a misconfigured server refuses to start instead of
// silently running with something weaker.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../domain/errors.js';
import { checkUnimplemented, resolveAliases } from './authgate-compat.js';
import { parseDurationMilliseconds, parseDurationSeconds } from './duration.js';
import { postgresUrlFromDsn } from './dsn.js';
import { resolveSecrets } from './secrets.js';
import type { SigningAlgorithm } from '../keys/signing-key.js';
import type { CacheSettings } from '../ops/cache.js';
import { readExternalSignIn, type ExternalSignInConfig } from '../identity/providers/config.js';
import { defaultPasswordHashWorkers } from '../identity/password-hasher.js';

export type DatabaseConfig = { dialect: 'sqlite'; file: string } | { dialect: 'postgresql'; url: string };

export interface Config {
  production: boolean;
  host: string;
  port: number;
  /** HTTPS on the listen address (TLS_CERT_FILE + TLS_KEY_FILE), read and checked at startup. */
  tls?: { cert: Buffer; key: Buffer; certFile: string; keyFile: string };
  /** One line per AuthGate variable that is set but not implemented (logged at warn level at startup). */
  warnings: string[];
  baseUrl: string;
  secureCookies: boolean;
  dataDir: string;
  database: DatabaseConfig;
  jwt: {
    alg: SigningAlgorithm;
    secret: string;
    privateKeyPath?: string;
    keyId?: string;
    /** seconds */
    expiration: number;
    /** seconds of random extra lifetime, to spread expiries (AuthGate's JWT_EXPIRATION_JITTER) */
    expirationJitter: number;
  };
  refreshTokens: {
    enabled: boolean;
    rotation: boolean;
    expiration: number;
    /** seconds during which replaying a just-rotated refresh token returns the same successor; 0 = strict */
    rotationGrace: number;
  };
  /** Access/refresh lifetimes (seconds) per client token profile; `standard` is JWT_EXPIRATION / REFRESH_TOKEN_EXPIRATION. */
  tokenProfiles: Record<'short' | 'standard' | 'long', { access: number; refresh: number }>;
  clientCredentialsExpiration: number;
  authorizationCode: { expiration: number; pkceRequired: boolean };
  consentRemember: boolean;
  dynamicRegistration: { enabled: boolean; token?: string };
  /**
   * Requests per minute on each limited endpoint (AuthGate's *_RATE_LIMIT), per address or per client
   * (http/rate-limit.ts, oauth/limit-key.ts); 0 = off.
   * Open registrations count over `registrationWindowSeconds` (60, or 3600 when set as RATE_LIMIT_REGISTRATION per hour).
   * failClosed: when the limit store (Redis) is down, refuse guarded actions (503) instead of letting them through.
   */
  rateLimits: {
    /** ENABLE_RATE_LIMIT: false turns every per-endpoint request limit off (the guessing limits stay). */
    enabled: boolean;
    deviceCodePerMinute: number;
    registration: number;
    registrationWindowSeconds: number;
    loginPerMinute: number;
    tokenPerMinute: number;
    deviceVerifyPerMinute: number;
    introspectPerMinute: number;
    failClosed: boolean;
  };
  /** Shared state for several instances (attempt limits); unset = in memory. */
  redisUrl?: string;
  /** Namespace for this deployment's keys, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  /** Origins allowed to call /oauth/* and /.well-known/* from browsers; empty = CORS off (or CORS_ENABLED=false). */
  corsAllowedOrigins: string[];
  /** What preflights answer (CORS_ALLOWED_METHODS, CORS_ALLOWED_HEADERS, CORS_MAX_AGE in seconds). */
  cors: { methods: string[]; headers: string[]; maxAge: number };
  session: { secret: string; maxAge: number; idleTimeout: number };
  // --- Session store (issue 11) ---
  /** Where browser sessions live: the `sessions` table (default) or Redis (SESSION_STORE=redis, shared by every instance). */
  sessionStore: 'database' | 'redis';
  deviceCode: { expiration: number; interval: number };
  defaultAdminPassword?: string;
  /** Worker threads that hash and check passwords (PASSWORD_HASH_WORKERS, this server's own); 0 = on the main thread. */
  passwordHashWorkers: number;
  /**
   * Server processes sharing the port (WEB_CONCURRENCY, this server's own): 1 = this process serves;
   * more = a primary process that forks that many workers (ops/cluster.ts). Needs what several instances need.
   */
  webConcurrency: number;
  /** Max body size for every endpoint; protocol requests are small. */
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  /** AuthGate's bootstrap and shutdown timeouts, in milliseconds. */
  timeouts: {
    dbInitMs: number;
    dbCloseMs: number;
    redisConnMs: number;
    redisCloseMs: number;
    auditShutdownMs: number;
    /** How long an idle keep-alive connection stays open (node:http's keepAliveTimeout). */
    keepAliveMs: number;
  };
  audit: AuditConfig;
  /** Trust X-Forwarded-* headers (behind a reverse proxy). */
  trustProxy: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  graphql: GraphQLConfig;
  // --- AuthGate protocol compatibility (issue 9): see readDeviceFlowCompat at the end of this file ---
  deviceFlow: DeviceFlowCompat;
  // --- Prometheus metrics (issue 11): see readMetricsConfig at the end of this file ---
  metrics: MetricsConfig;
  // --- External identity: sign-in through an HTTP API (issue 12): see readHttpApiAuth at the end of this file ---
  /** local: new accounts only by an admin; http_api: an unknown username is checked with the HTTP API and created on success. */
  authMode: AuthMode;
  /** The user service behind AUTH_MODE=http_api (set whenever HTTP_API_URL is): accounts created through it keep signing in through it. */
  httpApi?: HttpApiConfig;
  // --- Caches (issue 11): see readCaches at the end of this file ---
  caches: CachesConfig;
  /** With Redis: how long a cache invalidation waits for every other instance to confirm it dropped its copies. */
  cacheInvalidationTimeoutMs: number;
  // --- Sign-in through external identity providers (issue 12): see src/identity/providers/config.ts ---
  externalSignIn: ExternalSignInConfig;
}

/** Limits and developer tools of the GraphQL API (/graphql). */
export interface GraphQLConfig {
  /** Schema introspection; on outside production unless GRAPHQL_INTROSPECTION says otherwise. */
  introspection: boolean;
  /** The GraphiQL explorer at GET /graphql; on outside production unless GRAPHIQL says otherwise. */
  graphiql: boolean;
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  /** Operations per batched request. */
  maxBatch: number;
  bodyLimitBytes: number;
}

type Env = Record<string, string | undefined>;

/** Loads `.env` from the working directory if present; variables already set win. */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = join(cwd, '.env');
  if (existsSync(file)) process.loadEnvFile(file);
}

export function loadConfig(rawEnv: Env = process.env): Config {
  // AuthGate's names are read; this server's older names are aliases that must agree with them.
  const { env, setAs } = resolveAliases(rawEnv);
  aliasNames = setAs;
  try {
    return readConfig(env);
  } finally {
    aliasNames = new Map();
  }
}

function readConfig(env: Env): Config {
  const warnings = checkUnimplemented(env);
  const production = env.NODE_ENV === 'production' || ['production', 'true', '1'].includes(env.ENVIRONMENT?.trim().toLowerCase() ?? '');
  const { host, port } = readListenAddress(env);
  const tls = readTls(env);
  const baseUrl = readBaseUrl(env, port, Boolean(tls));
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');
  const alg = readEnum(env, 'JWT_SIGNING_ALGORITHM', ['HS256', 'RS256', 'ES256'] as const, 'HS256');
  const secrets = resolveSecrets({ env, dataDir, production });
  const privateKeyPath = env.JWT_PRIVATE_KEY_PATH?.trim() || undefined;
  if (alg !== 'HS256' && !privateKeyPath) {
    throw new ConfigError(`JWT_PRIVATE_KEY_PATH is required when JWT_SIGNING_ALGORITHM=${alg}`);
  }
  const jwtExpiration = readDuration(env, 'JWT_EXPIRATION', '10h', { min: 60 });
  const refreshExpiration = readDuration(env, 'REFRESH_TOKEN_EXPIRATION', '720h', { min: 60 });
  // AuthGate's rule: the jitter must be less than JWT_EXPIRATION (its default, 30m, with a shorter expiration is an error there too).
  const jitter = readDuration(env, 'JWT_EXPIRATION_JITTER', '30m', { min: 0 });
  if (jitter >= jwtExpiration) {
    throw new ConfigError(`JWT_EXPIRATION_JITTER (${jitter}s) must be less than JWT_EXPIRATION (${jwtExpiration}s)`);
  }
  const sessionMaxAge = readDuration(env, 'SESSION_MAX_AGE', '3600', { min: 60 });
  const sessionIdle = readDuration(env, 'SESSION_IDLE_TIMEOUT', '1800', { min: 0 });
  if (sessionIdle > 0 && sessionIdle < 60) throw new ConfigError(`SESSION_IDLE_TIMEOUT must be 0 (off) or at least 60 seconds, got "${env.SESSION_IDLE_TIMEOUT}"`);
  const ms = (name: string, fallback: string) => readDuration(env, name, fallback, { min: 1 }) * 1000;
  const config: Config = {
    production,
    host,
    port,
    tls,
    warnings,
    baseUrl,
    secureCookies: baseUrl.startsWith('https://'),
    dataDir,
    database: readDatabase(env, dataDir, warnings),
    jwt: {
      alg,
      secret: secrets.jwtSecret,
      privateKeyPath: privateKeyPath && (isAbsolute(privateKeyPath) ? privateKeyPath : resolve(privateKeyPath)),
      keyId: env.JWT_KEY_ID?.trim() || undefined,
      expiration: jwtExpiration,
      expirationJitter: jitter,
    },
    refreshTokens: {
      enabled: readBool(env, 'ENABLE_REFRESH_TOKENS', true),
      rotation: readBool(env, 'ENABLE_TOKEN_ROTATION', false),
      expiration: refreshExpiration,
      // A client's network retry should not log its user out; longer would widen a thief's window.
      rotationGrace: readDuration(env, 'REFRESH_TOKEN_ROTATION_GRACE', '5s', { min: 0, max: 300 }),
    },
    tokenProfiles: readTokenProfiles(env, jwtExpiration, refreshExpiration),
    clientCredentialsExpiration: readDuration(env, 'CLIENT_CREDENTIALS_TOKEN_EXPIRATION', '1h', { min: 60 }),
    authorizationCode: {
      expiration: readDuration(env, 'AUTH_CODE_EXPIRATION', '10m', { min: 1, max: 3600 }),
      pkceRequired: readBool(env, 'PKCE_REQUIRED', false),
    },
    consentRemember: readBool(env, 'CONSENT_REMEMBER', true),
    dynamicRegistration: {
      enabled: readBool(env, 'ENABLE_DYNAMIC_CLIENT_REGISTRATION', false),
      token: readOptionalSecret(env, 'DYNAMIC_CLIENT_REGISTRATION_TOKEN'),
    },
    ...readCors(env),
    rateLimits: readRequestLimits(env),
    redisUrl: readRedisUrl(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'authgate:',
    session: {
      secret: secrets.sessionSecret,
      maxAge: sessionMaxAge,
      // AuthGate: 0 switches the idle timeout off, leaving only the absolute lifetime.
      idleTimeout: sessionIdle === 0 ? sessionMaxAge : Math.min(sessionIdle, sessionMaxAge),
    },
    // --- Session store (issue 11): this server's name; AuthGate has no such setting. ---
    sessionStore: readEnum(env, 'SESSION_STORE', ['database', 'redis'] as const, 'database'),
    deviceCode: {
      expiration: readDuration(env, 'DEVICE_CODE_EXPIRATION', '30m', { min: 1 }),
      interval: readDuration(env, 'DEVICE_CODE_POLLING_INTERVAL', '5s', { min: 1, max: 60 }),
    },
    defaultAdminPassword: env.DEFAULT_ADMIN_PASSWORD || undefined,
    passwordHashWorkers: readInt(env, 'PASSWORD_HASH_WORKERS', defaultPasswordHashWorkers(), { min: 0, max: 64 }),
    webConcurrency: readInt(env, 'WEB_CONCURRENCY', 1, { min: 1, max: 64 }),
    bodyLimitBytes: 64 * 1024,
    shutdownTimeoutMs: ms('SERVER_SHUTDOWN_TIMEOUT', '5s'),
    timeouts: {
      dbInitMs: ms('DB_INIT_TIMEOUT', '30s'),
      dbCloseMs: ms('DB_CLOSE_TIMEOUT', '5s'),
      redisConnMs: ms('REDIS_CONN_TIMEOUT', '5s'),
      redisCloseMs: ms('REDIS_CLOSE_TIMEOUT', '5s'),
      auditShutdownMs: ms('AUDIT_SHUTDOWN_TIMEOUT', '10s'),
      // Node's default (5 s) unless set. Behind a load balancer that reuses idle connections it must be
      // longer than the balancer's idle timeout, or the server closes a connection just as the balancer
      // sends a request on it (a 502). At most 10 minutes: an idle connection holds a socket.
      keepAliveMs: readDuration(env, 'SERVER_KEEP_ALIVE_TIMEOUT', '5s', { min: 1, max: 600 }) * 1000,
    },
    audit: readAudit(env),
    trustProxy: readBool(env, 'TRUST_PROXY', false),
    logLevel: readEnum(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    graphql: readGraphQLConfig(env, production),
    deviceFlow: readDeviceFlowCompat(env),
    metrics: readMetricsConfig(env, production, warnings),
    ...readHttpApiAuth(env, production, warnings),
    caches: readCaches(env),
    cacheInvalidationTimeoutMs: readCacheInvalidationTimeout(env),
    // --- Sign-in through external identity providers (issue 12) ---
    externalSignIn: readExternalSignIn(env, { production, baseUrl }, { readBool, readDuration }),
  };
  requireRedisForCaches(config);
  requireSharedStateForWorkers(config);
  if (config.sessionStore === 'redis' && !config.redisUrl) {
    throw new ConfigError('SESSION_STORE=redis needs Redis: set REDIS_URL (or RATE_LIMIT_STORE=redis with REDIS_ADDR, REDIS_PASSWORD, REDIS_DB)');
  }
  if (config.defaultAdminPassword !== undefined && config.defaultAdminPassword.length < 8) {
    throw new ConfigError('DEFAULT_ADMIN_PASSWORD must be at least 8 characters');
  }
  if (production && !config.baseUrl.startsWith('https://') && !isLoopbackUrl(config.baseUrl)) {
    throw new ConfigError('BASE_URL must use https:// when NODE_ENV=production');
  }
  return config;
}

// Names the variable as the operator wrote it: an alias's value is read under AuthGate's name.
let aliasNames = new Map<string, string>();
const shown = (name: string) => aliasNames.get(name) ?? name;

// AuthGate counts open registrations per minute (DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT); this server's
// older RATE_LIMIT_REGISTRATION counted per hour. Both set must mean the same rate.
function readRegistrationLimit(env: Env): { points: number; windowSeconds: number } {
  const perMinuteSet = Boolean(env.DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT?.trim());
  const perHourSet = Boolean(env.RATE_LIMIT_REGISTRATION?.trim());
  const perMinute = readInt(env, 'DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT', 5, { min: 0, max: 100_000 });
  if (!perHourSet) return { points: perMinute, windowSeconds: 60 };
  const perHour = readInt(env, 'RATE_LIMIT_REGISTRATION', 0, { min: 0, max: 6_000_000 });
  if (perMinuteSet && perMinute * 60 !== perHour) {
    throw new ConfigError(
      `DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT=${perMinute} (per minute) and RATE_LIMIT_REGISTRATION=${perHour} (per hour) disagree; set only one of them`,
    );
  }
  return perMinuteSet ? { points: perMinute, windowSeconds: 60 } : { points: perHour, windowSeconds: 3600 };
}

function readCors(env: Env): Pick<Config, 'corsAllowedOrigins' | 'cors'> {
  const origins = readOrigins(env, 'CORS_ALLOWED_ORIGINS');
  // AuthGate needs CORS_ENABLED=true; this server switched CORS on by listing origins. Both hold:
  // origins alone switch it on, CORS_ENABLED=false switches it off, and true without origins is an error.
  const enabled = readBool(env, 'CORS_ENABLED', origins.length > 0);
  if (enabled && origins.length === 0) throw new ConfigError('CORS_ENABLED=true needs CORS_ALLOWED_ORIGINS (the origins allowed to call /oauth/*)');
  const list = (name: string, fallback: string, pattern: RegExp) => {
    const items = (env[name]?.trim() || fallback).split(',').map((item) => item.trim()).filter(Boolean);
    for (const item of items) if (!pattern.test(item)) throw new ConfigError(`${name} contains an invalid entry: "${item}"`);
    return items;
  };
  return {
    corsAllowedOrigins: enabled ? origins : [],
    cors: {
      methods: list('CORS_ALLOWED_METHODS', 'GET,POST,PUT,DELETE,OPTIONS', /^[A-Z]+$/).map((m) => m.toUpperCase()),
      headers: list('CORS_ALLOWED_HEADERS', 'Origin,Content-Type,Authorization', /^[A-Za-z0-9-]+$/),
      maxAge: readDuration(env, 'CORS_MAX_AGE', '12h', { min: 0 }),
    },
  };
}

// TLS_CERT_FILE + TLS_KEY_FILE: both or neither (as AuthGate's Config.Validate), read and checked now so a
// bad file stops startup with its variable's name instead of failing at the first connection.
function readTls(env: Env): Config['tls'] {
  const certFile = env.TLS_CERT_FILE?.trim() || undefined;
  const keyFile = env.TLS_KEY_FILE?.trim() || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) {
    const [set, missing] = certFile ? ['TLS_CERT_FILE', 'TLS_KEY_FILE'] : ['TLS_KEY_FILE', 'TLS_CERT_FILE'];
    throw new ConfigError(`${set} is set but ${missing} is not; set both to serve HTTPS, or neither for plain HTTP`);
  }
  const read = (name: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${name}: cannot read "${file}": ${(err as Error).message}`);
    }
  };
  const cert = read('TLS_CERT_FILE', certFile);
  const key = read('TLS_KEY_FILE', keyFile);
  try {
    new X509Certificate(cert);
  } catch (err) {
    throw new ConfigError(`TLS_CERT_FILE: "${certFile}" is not a PEM certificate: ${(err as Error).message}`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new ConfigError(`TLS_KEY_FILE: "${keyFile}" is not a PEM private key: ${(err as Error).message}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`TLS_KEY_FILE: "${keyFile}" does not match the certificate in TLS_CERT_FILE: ${(err as Error).message}`);
  }
  return { cert, key, certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

// Per-client token profiles (short / standard / long). Each is overridable and each is capped by
// JWT_EXPIRATION_MAX / REFRESH_TOKEN_EXPIRATION_MAX: a profile above its cap is a startup error,
// not a silent clamp, so nobody believes tokens live longer (or shorter) than they do.
function readTokenProfiles(env: Env, standardAccess: number, standardRefresh: number): Config['tokenProfiles'] {
  const maxAccess = readDuration(env, 'JWT_EXPIRATION_MAX', '24h', { min: 60 });
  const maxRefresh = readDuration(env, 'REFRESH_TOKEN_EXPIRATION_MAX', '2160h', { min: 60 });
  const profiles: Config['tokenProfiles'] = {
    short: {
      access: readDuration(env, 'TOKEN_PROFILE_SHORT_ACCESS_TTL', '15m', { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_SHORT_REFRESH_TTL', '24h', { min: 60 }),
    },
    standard: {
      access: readDuration(env, 'TOKEN_PROFILE_STANDARD_ACCESS_TTL', String(standardAccess), { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_STANDARD_REFRESH_TTL', String(standardRefresh), { min: 60 }),
    },
    long: {
      access: readDuration(env, 'TOKEN_PROFILE_LONG_ACCESS_TTL', '24h', { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_LONG_REFRESH_TTL', '2160h', { min: 60 }),
    },
  };
  for (const [name, profile] of Object.entries(profiles)) {
    if (profile.access > maxAccess) {
      throw new ConfigError(`the ${name} token profile's access lifetime (${profile.access}s) exceeds JWT_EXPIRATION_MAX (${maxAccess}s)`);
    }
    if (profile.refresh > maxRefresh) {
      throw new ConfigError(`the ${name} token profile's refresh lifetime (${profile.refresh}s) exceeds REFRESH_TOKEN_EXPIRATION_MAX (${maxRefresh}s)`);
    }
  }
  return profiles;
}

function readGraphQLConfig(env: Env, production: boolean): GraphQLConfig {
  return {
    introspection: readBool(env, 'GRAPHQL_INTROSPECTION', !production),
    graphiql: readBool(env, 'GRAPHIQL', !production),
    maxDepth: readInt(env, 'GRAPHQL_MAX_DEPTH', 10, { min: 2, max: 100 }),
    maxCost: readInt(env, 'GRAPHQL_MAX_COST', 5000, { min: 10, max: 1_000_000 }),
    maxAliases: readInt(env, 'GRAPHQL_MAX_ALIASES', 15, { min: 0, max: 1000 }),
    maxBatch: readInt(env, 'GRAPHQL_MAX_BATCH', 5, { min: 1, max: 100 }),
    bodyLimitBytes: 100 * 1024,
  };
}

// Redis is used when REDIS_URL is set (this server's name) or RATE_LIMIT_STORE=redis (AuthGate's, with
// REDIS_ADDR, REDIS_PASSWORD, REDIS_DB). Both given must point at the same server and database.
function readRedisUrl(env: Env): string | undefined {
  const url = env.REDIS_URL?.trim() || undefined;
  if (url && !/^rediss?:\/\//.test(url)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
  const store = readEnum(env, 'RATE_LIMIT_STORE', ['memory', 'redis'] as const, url ? 'redis' : 'memory');
  const addrGiven = ['REDIS_ADDR', 'REDIS_PASSWORD', 'REDIS_DB'].some((name) => env[name]?.trim());
  const addr = env.REDIS_ADDR?.trim() || 'localhost:6379';
  const match = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(addr);
  if (!match || Number(match[2]) > 65535) throw new ConfigError(`REDIS_ADDR must look like "localhost:6379", got "${addr}"`);
  const db = readInt(env, 'REDIS_DB', 0, { min: 0, max: 100_000 });
  const password = env.REDIS_PASSWORD ?? '';
  if (store === 'memory') {
    if (url) throw new ConfigError('RATE_LIMIT_STORE=memory and REDIS_URL disagree (REDIS_URL means the Redis store); set only one of them');
    return undefined;
  }
  const fromAddr = `redis://${password ? `:${encodeURIComponent(password)}@` : ''}${match[1]}:${match[2]}/${db}`;
  if (!url) return fromAddr;
  if (addrGiven) {
    const a = new URL(url);
    const same =
      a.hostname === match[1] &&
      (a.port || '6379') === String(Number(match[2])) &&
      decodeURIComponent(a.password) === password &&
      Number(a.pathname.replace(/^\//, '') || '0') === db;
    if (!same) throw new ConfigError('REDIS_URL and REDIS_ADDR/REDIS_PASSWORD/REDIS_DB disagree (both name the Redis server); set only one of them');
  }
  return url;
}

function readOptionalSecret(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (value.length < 32) throw new ConfigError(`${name} must be at least 32 characters`);
  return value;
}

function readOrigins(env: Env, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  return raw.split(/[\s,]+/).filter(Boolean).map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`${name} contains an invalid origin: "${origin}"`);
    }
    if (url.origin !== origin.replace(/\/$/, '')) throw new ConfigError(`${name} entries must be bare origins like https://app.example.com, got "${origin}"`);
    return url.origin;
  });
}

// SERVER_ADDR follows AuthGate (":8080" or "host:port"); PORT and HOST are the common platform variables.
// Both forms given must agree (PORT=8080 with SERVER_ADDR=127.0.0.1:8080 does; PORT=9090 does not).
function readListenAddress(env: Env): { host: string; port: number } {
  const addr = env.SERVER_ADDR?.trim();
  const port = readInt(env, 'PORT', 8080, { min: 0, max: 65535 });
  const host = env.HOST?.trim() || undefined;
  if (!addr) return { host: host ?? '0.0.0.0', port };
  const match = /^(.*):(\d{1,5})$/.exec(addr);
  const addrPort = match ? Number(match[2]) : NaN;
  if (!match || addrPort > 65535) throw new ConfigError(`SERVER_ADDR must look like ":8080" or "127.0.0.1:8080", got "${addr}"`);
  const addrHost = match[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  if (env.PORT?.trim() && port !== addrPort) throw new ConfigError(`SERVER_ADDR=${addr} and PORT=${env.PORT.trim()} disagree on the port; set only one of them`);
  if (host && match[1] && host !== addrHost) throw new ConfigError(`SERVER_ADDR=${addr} and HOST=${host} disagree on the host; set only one of them`);
  return { host: match[1] ? addrHost : (host ?? addrHost), port: addrPort };
}

function readBaseUrl(env: Env, port: number, tls: boolean): string {
  const raw = env.BASE_URL?.trim() || `${tls ? 'https' : 'http'}://localhost:${port}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`BASE_URL is not a valid URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('BASE_URL must be an http:// or https:// URL');
  if (url.search || url.hash) throw new ConfigError('BASE_URL must not have a query or fragment');
  return url.toString().replace(/\/$/, '');
}

// AuthGate: DATABASE_DRIVER (sqlite | postgres) + DATABASE_DSN (a file path, or a PostgreSQL DSN in URL or
// key=value form; DATABASE_PATH is its older name for the SQLite file). This server: DATABASE_URL. Both
// given must name the same database.
function readDatabase(env: Env, dataDir: string, warnings: string[]): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  const fromUrl = url ? readDatabaseUrl(url) : undefined;
  const driverSet = Boolean(env.DATABASE_DRIVER?.trim());
  const dsn = env.DATABASE_DSN?.trim() || undefined;
  if (!driverSet && !dsn) return fromUrl ?? { dialect: 'sqlite', file: join(dataDir, 'authgate.db') };
  const driver = readEnum(env, 'DATABASE_DRIVER', ['sqlite', 'postgres', 'postgresql'] as const, 'sqlite');
  let fromDsn: DatabaseConfig | undefined;
  if (driver === 'sqlite') {
    if (dsn && looksLikePostgres(dsn)) throw new ConfigError(`DATABASE_DSN is a PostgreSQL DSN but DATABASE_DRIVER is ${driverSet ? 'sqlite' : 'unset (sqlite)'}; set DATABASE_DRIVER=postgres`);
    if (dsn) fromDsn = { dialect: 'sqlite', file: sqliteFile(shown('DATABASE_DSN'), dsn) };
    else if (!fromUrl) fromDsn = { dialect: 'sqlite', file: join(dataDir, 'authgate.db') };
  } else {
    if (!dsn && !fromUrl) throw new ConfigError(`DATABASE_DRIVER=${driver} needs DATABASE_DSN (e.g. "host=localhost user=authgate password=secret dbname=authgate port=5432 sslmode=disable")`);
    if (dsn) fromDsn = { dialect: 'postgresql', url: postgresUrlFromDsn(shown('DATABASE_DSN'), dsn, warnings) };
  }
  if (fromUrl && fromDsn && !sameDatabase(fromUrl, fromDsn)) {
    throw new ConfigError(`DATABASE_URL and DATABASE_DRIVER/${shown('DATABASE_DSN')} name different databases; set only one of them`);
  }
  if (fromUrl && !fromDsn && driverSet && fromUrl.dialect !== (driver === 'sqlite' ? 'sqlite' : 'postgresql')) {
    throw new ConfigError(`DATABASE_DRIVER=${driver} and DATABASE_URL (${fromUrl.dialect}) disagree; set only one of them`);
  }
  return fromDsn ?? fromUrl!;
}

function readDatabaseUrl(url: string): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError('DATABASE_URL is not a valid postgres:// URL');
    }
    return { dialect: 'postgresql', url };
  }
  if (url.startsWith('file:')) return { dialect: 'sqlite', file: resolve(url.slice('file:'.length)) };
  throw new ConfigError('DATABASE_URL must start with postgres://, postgresql:// or file: (leave it unset for the embedded SQLite database)');
}

function looksLikePostgres(dsn: string): boolean {
  return /^postgres(ql)?:\/\//.test(dsn) || /(^|\s)(host|dbname|user)=/.test(dsn);
}

/** A SQLite DSN as AuthGate takes it: a file path, optionally "file:"-prefixed. Driver options are not supported. */
function sqliteFile(name: string, dsn: string): string {
  const path = dsn.replace(/^file:/, '');
  if (path.includes('?')) throw new ConfigError(`${name}: SQLite connection options ("?…") are not supported; give a file path`);
  if (path === '' || path === ':memory:') throw new ConfigError(`${name} must be a SQLite file path, got "${dsn}"`);
  return resolve(path);
}

function sameDatabase(a: DatabaseConfig, b: DatabaseConfig): boolean {
  if (a.dialect === 'sqlite' || b.dialect === 'sqlite') return a.dialect === b.dialect && (a as { file: string }).file === (b as { file: string }).file;
  const [x, y] = [new URL(a.url), new URL(b.url)];
  const host = (u: URL) => u.hostname || u.searchParams.get('host') || 'localhost';
  return (
    host(x) === host(y) &&
    (x.port || '5432') === (y.port || '5432') &&
    decodeURIComponent(x.username) === decodeURIComponent(y.username) &&
    decodeURIComponent(x.password) === decodeURIComponent(y.password) &&
    x.pathname === y.pathname
  );
}

function isLoopbackUrl(raw: string): boolean {
  const host = new URL(raw).hostname;
  return host === 'localhost' || host === '[::1]' || host.startsWith('127.');
}

export function readBool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${shown(name)} must be true or false, got "${env[name]}"`);
}

export function readInt(env: Env, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
    throw new ConfigError(`${shown(name)} must be an integer between ${range.min} and ${range.max}, got "${raw}"`);
  }
  return value;
}

export function readDuration(env: Env, name: string, fallback: string, range: { min: number; max?: number }): number {
  const raw = env[name]?.trim() || fallback;
  const seconds = parseDurationSeconds(raw);
  if (seconds === null) throw new ConfigError(`${shown(name)} must be a duration like "30s", "15m", "10h" or a number of seconds, got "${raw}"`);
  if (seconds < range.min) throw new ConfigError(`${shown(name)} must be at least ${range.min} seconds, got "${raw}"`);
  if (range.max !== undefined && seconds > range.max) throw new ConfigError(`${shown(name)} must be at most ${range.max} seconds, got "${raw}"`);
  return seconds;
}

/** A duration in whole milliseconds ("500ms", "10s", "1m"; a bare integer is seconds), between min and max ms. */
function readMilliseconds(env: Env, name: string, fallback: string, min: number, max: number): number {
  const raw = env[name]?.trim() || fallback;
  const value = parseDurationMilliseconds(raw);
  if (value === null) throw new ConfigError(`${shown(name)} must be a duration like "500ms", "10s" or "1m", got "${raw}"`);
  if (value < min || value > max) throw new ConfigError(`${shown(name)} must be between ${min} ms and ${max / 1000} s, got "${raw}"`);
  return value;
}

export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, why?: string): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${shown(name)} must be ${allowed.length === 1 ? `"${allowed[0]}"` : `one of ${allowed.join(', ')}`}, got "${raw}"${why ? `: ${why}` : ''}`);
  return raw as T;
}

// --- AuthGate protocol compatibility (issue 9) ---------------------------------------------------
// Kept together so the device flow's compatibility settings stay in one place.

export interface DeviceFlowCompat {
  /**
   * Scopes for a device authorization request that names none (RFC 8628 §3.1 makes `scope` optional):
   * these, intersected with what the client allows. AuthGate's default is `email profile`.
   */
  defaultScopes: string[];
  /**
   * Fraction of the polling interval by which a poll may arrive early without being `slow_down`
   * (network and scheduling jitter). 0.2 = a poll 1 s early at a 5 s interval is still on time.
   */
  pollTolerance: number;
}

export function readDeviceFlowCompat(env: Env): DeviceFlowCompat {
  const rawScope = env.DEVICE_CODE_DEFAULT_SCOPE;
  const scopeText = rawScope === undefined ? 'email profile' : rawScope.trim();
  const defaultScopes = [...new Set(scopeText.split(/[\s,]+/).filter((s) => s !== ''))];
  const bad = defaultScopes.find((s) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(s));
  if (bad !== undefined) throw new ConfigError(`DEVICE_CODE_DEFAULT_SCOPE contains an invalid scope "${bad}"`);
  return { defaultScopes, pollTolerance: readFraction(env, 'DEVICE_CODE_POLLING_TOLERANCE', 0.2, 0.5) };
}

/** A fraction written as `0.2` or `20%`, between 0 and `max`. */
function readFraction(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+(?:\.\d+)?)(%?)$/.exec(raw);
  const value = match ? Number(match[1]) / (match[2] ? 100 : 1) : NaN;
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new ConfigError(`${name} must be a fraction between 0 and ${max} (e.g. "0.2" or "20%"), got "${raw}"`);
  }
  return value;
}

// --- Prometheus metrics (issue 11) ------------------------------------------------------------------

export interface MetricsConfig {
  /** GET /metrics is served (METRICS_ENABLED, off by default as in AuthGate). */
  enabled: boolean;
  /** Bearer token scrapes must present (METRICS_TOKEN, 32+ characters); unset = no authentication. */
  token?: string;
  /** Gauges that need a database count are refreshed here every `intervalMs` (METRICS_GAUGE_UPDATE_*). */
  gaugeUpdate: { enabled: boolean; intervalMs: number };
}

export function readMetricsConfig(env: Env, production: boolean, warnings: string[]): MetricsConfig {
  const enabled = readBool(env, 'METRICS_ENABLED', false);
  // Checked whether or not metrics are on: a malformed value is an error either way.
  const token = readOptionalSecret(env, 'METRICS_TOKEN');
  // Sent as `Authorization: Bearer <token>`: a token68 has no spaces, so one with spaces could never match.
  if (token && /\s/.test(token)) throw new ConfigError('METRICS_TOKEN must not contain whitespace (it is sent as a Bearer token)');
  const gaugeUpdate = {
    enabled: readBool(env, 'METRICS_GAUGE_UPDATE_ENABLED', true),
    intervalMs: readDuration(env, 'METRICS_GAUGE_UPDATE_INTERVAL', '5m', { min: 1, max: 24 * 3600 }) * 1000,
  };
  if (!enabled && token) warnings.push('METRICS_TOKEN is set but METRICS_ENABLED is not true: /metrics is not served');
  if (enabled && !token && production) warnings.push('METRICS_ENABLED=true without METRICS_TOKEN: /metrics answers anyone who can reach it; restrict it at the network or set METRICS_TOKEN');
  return { enabled, token, gaugeUpdate };
}

// --- Operations: per-endpoint request limits and audit retention (issue 11) ----------------------

/**
 * AuthGate's per-endpoint request limits, per minute, ON by default with AuthGate's values; 0 switches
 * one off, ENABLE_RATE_LIMIT=false all of them (a malformed value is an error either way). The
 * guessing limits (failed sign-ins and user codes per account and address) are not among them.
 */
function readRequestLimits(env: Env): Config['rateLimits'] {
  const enabled = readBool(env, 'ENABLE_RATE_LIMIT', true);
  const perMinute = (name: string, fallback: number) => {
    const value = readInt(env, name, fallback, { min: 0, max: 100_000 });
    return enabled ? value : 0;
  };
  const registration = readRegistrationLimit(env);
  return {
    enabled,
    deviceCodePerMinute: perMinute('DEVICE_CODE_RATE_LIMIT', 10),
    registration: enabled ? registration.points : 0,
    registrationWindowSeconds: registration.windowSeconds,
    loginPerMinute: perMinute('LOGIN_RATE_LIMIT', 5),
    tokenPerMinute: perMinute('TOKEN_RATE_LIMIT', 20),
    deviceVerifyPerMinute: perMinute('DEVICE_VERIFY_RATE_LIMIT', 10),
    introspectPerMinute: perMinute('INTROSPECT_RATE_LIMIT', 20),
    failClosed: readBool(env, 'RATE_LIMIT_FAIL_CLOSED', false),
  };
}

export interface AuditConfig {
  /**
   * ENABLE_AUDIT_LOGGING. false stops the per-request event stream (sign-ins, token issuance, failures,
   * lockouts, rate-limit hits); the events written with the change they record (administrative and
   * account changes, mass and family revocations, replay detections, registrations) are still
   * written: see AuditLogOptions.enabled.
   */
  enabled: boolean;
  flushIntervalMs: number;
  batchSize: number;
  bufferSize: number;
  /** AUDIT_LOG_RETENTION in seconds: events older than this are deleted by housekeeping; 0 = kept forever. */
  retentionSeconds: number;
  /** AUDIT_LOG_CLEANUP_INTERVAL: how often the retention cleanup runs. */
  cleanupIntervalMs: number;
}

// AUDIT_LOG_BUFFER_SIZE: AuthGate's default is 1000; this server holds more by default (room for several
// batches while the database is slow), and never less than one batch.
function readAudit(env: Env): AuditConfig {
  const batchSize = readInt(env, 'AUDIT_BATCH_SIZE', 100, { min: 1, max: 10_000 });
  const bufferSize = readInt(env, 'AUDIT_LOG_BUFFER_SIZE', Math.max(10_000, 4 * batchSize), { min: 1, max: 10_000_000 });
  if (bufferSize < batchSize) throw new ConfigError(`AUDIT_LOG_BUFFER_SIZE (${bufferSize}) must be at least AUDIT_BATCH_SIZE (${batchSize})`);
  const retentionSeconds = readDuration(env, 'AUDIT_LOG_RETENTION', '2160h', { min: 0 });
  // A retention shorter than an hour is almost certainly a unit mistake ("90" meant as days is 90 seconds).
  if (retentionSeconds > 0 && retentionSeconds < 3600) {
    throw new ConfigError(`AUDIT_LOG_RETENTION must be 0 (keep forever) or at least 1h, got "${env.AUDIT_LOG_RETENTION?.trim()}"`);
  }
  return {
    enabled: readBool(env, 'ENABLE_AUDIT_LOGGING', true),
    flushIntervalMs: readDuration(env, 'AUDIT_FLUSH_INTERVAL', '1s', { min: 0 }) * 1000 || 1000,
    batchSize,
    bufferSize,
    retentionSeconds,
    // At most 21 days: Node's timers cannot wait longer than about 24.8 days.
    cleanupIntervalMs: readDuration(env, 'AUDIT_LOG_CLEANUP_INTERVAL', '24h', { min: 1, max: 21 * 24 * 3600 }) * 1000,
  };
}

// --- External identity: sign-in through an HTTP API (issue 12) -----------------------------------
// AuthGate's AUTH_MODE=http_api and HTTP_API_* (configuration guide), read together here.

export type AuthMode = 'local' | 'http_api';

export type HttpApiAuth = { mode: 'none' } | { mode: 'simple'; header: string; secret: string } | { mode: 'hmac'; secret: string };

export interface HttpApiConfig {
  url: string;
  /** Bounds the whole sign-in call, retries and backoff included: a person is waiting on the page. */
  timeoutMs: number;
  /** Retries after the first attempt (0 = none), on network errors, 5xx and 429 only. */
  maxRetries: number;
  /** First backoff; doubled per retry up to maxRetryDelayMs. */
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Accept any TLS certificate from the user service (never in production). */
  insecureSkipVerify: boolean;
  auth: HttpApiAuth;
}

const HTTP_API_VARIABLES = ['HTTP_API_URL', 'HTTP_API_TIMEOUT', 'HTTP_API_INSECURE_SKIP_VERIFY', 'HTTP_API_AUTH_MODE', 'HTTP_API_AUTH_SECRET', 'HTTP_API_AUTH_HEADER', 'HTTP_API_MAX_RETRIES', 'HTTP_API_RETRY_DELAY', 'HTTP_API_MAX_RETRY_DELAY'];

export function readHttpApiAuth(env: Env, production: boolean, warnings: string[]): { authMode: AuthMode; httpApi?: HttpApiConfig } {
  const authMode = readEnum(env, 'AUTH_MODE', ['local', 'http_api'] as const, 'local');
  const rawUrl = env.HTTP_API_URL?.trim();
  if (!rawUrl) {
    if (authMode === 'http_api') throw new ConfigError('AUTH_MODE=http_api needs HTTP_API_URL (the user service that checks usernames and passwords)');
    const stray = HTTP_API_VARIABLES.filter((name) => env[name]?.trim());
    if (stray.length) warnings.push(`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set without HTTP_API_URL and ${stray.length === 1 ? 'has' : 'have'} no effect`);
    return { authMode };
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(`HTTP_API_URL is not a valid URL: "${rawUrl}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`HTTP_API_URL must be an http:// or https:// URL, got "${rawUrl}"`);
  if (url.username || url.password) throw new ConfigError('HTTP_API_URL must not carry credentials; use HTTP_API_AUTH_MODE and HTTP_API_AUTH_SECRET');
  if (url.hash) throw new ConfigError('HTTP_API_URL must not have a fragment');
  if (production && url.protocol === 'http:' && !isLoopbackUrl(url.toString())) {
    warnings.push('HTTP_API_URL uses plain http:// to a non-loopback host: passwords travel unencrypted to the user service');
  }
  const insecureSkipVerify = readBool(env, 'HTTP_API_INSECURE_SKIP_VERIFY', false);
  if (insecureSkipVerify && production) throw new ConfigError('HTTP_API_INSECURE_SKIP_VERIFY=true is refused in production: the user service receives passwords, so its certificate must be verified');
  const timeoutMs = readMilliseconds(env, 'HTTP_API_TIMEOUT', '10s', 100, 600_000);
  const retryDelayMs = readMilliseconds(env, 'HTTP_API_RETRY_DELAY', '1s', 1, 600_000);
  const maxRetryDelayMs = readMilliseconds(env, 'HTTP_API_MAX_RETRY_DELAY', '10s', 1, 600_000);
  if (maxRetryDelayMs < retryDelayMs) throw new ConfigError(`HTTP_API_MAX_RETRY_DELAY (${maxRetryDelayMs} ms) must be at least HTTP_API_RETRY_DELAY (${retryDelayMs} ms)`);
  const mode = readEnum(env, 'HTTP_API_AUTH_MODE', ['none', 'simple', 'hmac'] as const, 'none');
  // Used as given (not trimmed): the user service holds the same bytes.
  const secret = env.HTTP_API_AUTH_SECRET?.trim() ? env.HTTP_API_AUTH_SECRET : '';
  let auth: HttpApiAuth;
  if (mode === 'none') {
    if (secret) warnings.push('HTTP_API_AUTH_SECRET is set but HTTP_API_AUTH_MODE is none: the secret is not sent; set HTTP_API_AUTH_MODE=simple or hmac');
    if (production) warnings.push('HTTP_API_AUTH_MODE=none: the user service cannot tell this server\'s requests from anyone else\'s; hmac is recommended');
    auth = { mode: 'none' };
  } else {
    if (!secret) throw new ConfigError(`HTTP_API_AUTH_MODE=${mode} needs HTTP_API_AUTH_SECRET`);
    if (mode === 'simple') {
      const header = env.HTTP_API_AUTH_HEADER?.trim() || 'X-API-Secret';
      // An HTTP token (RFC 9110 §5.6.2) and not one fetch manages itself.
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) throw new ConfigError(`HTTP_API_AUTH_HEADER must be a header name, got "${header}"`);
      if (/^(host|content-type|content-length|connection|transfer-encoding|cookie)$/i.test(header)) throw new ConfigError(`HTTP_API_AUTH_HEADER cannot be ${header}`);
      if (!/^[\x20-\x7e]+$/.test(secret)) throw new ConfigError('HTTP_API_AUTH_SECRET must be printable ASCII to travel in a header');
      auth = { mode: 'simple', header, secret };
    } else {
      auth = { mode: 'hmac', secret };
    }
  }
  if (mode !== 'simple' && env.HTTP_API_AUTH_HEADER?.trim()) warnings.push(`HTTP_API_AUTH_HEADER is only used with HTTP_API_AUTH_MODE=simple (it is ${mode}) and has no effect`);
  return {
    authMode,
    httpApi: {
      url: url.toString(),
      timeoutMs,
      maxRetries: readInt(env, 'HTTP_API_MAX_RETRIES', 3, { min: 0, max: 20 }),
      retryDelayMs,
      maxRetryDelayMs,
      insecureSkipVerify,
      auth,
    },
  };
}

// --- Caches (issue 11) -----------------------------------------------------------------------------
// AuthGate's USER_CACHE_*, CLIENT_CACHE_*, TOKEN_CACHE_* (see ops/cache.ts). `none` is this server's own
// value: no cache, for several instances without Redis (whose memory copies nothing would invalidate).

export interface CachesConfig {
  client: CacheSettings;
  user: CacheSettings;
  /** On unless TOKEN_CACHE_ENABLED=false (AuthGate's default is off; see the README's differences). */
  token: CacheSettings;
}

const CACHE_TYPES = ['memory', 'redis', 'redis-aside', 'none'] as const;

function readCacheSettings(env: Env, name: 'USER' | 'CLIENT' | 'TOKEN', ttl: string, clientTtl: string, enabled = true): CacheSettings {
  const type = readEnum(env, `${name}_CACHE_TYPE`, CACHE_TYPES, 'memory');
  return {
    type: enabled ? type : 'none',
    ttlMs: readDuration(env, `${name}_CACHE_TTL`, ttl, { min: 1 }) * 1000,
    clientTtlMs: readDuration(env, `${name}_CACHE_CLIENT_TTL`, clientTtl, { min: 1 }) * 1000,
    maxBytes: readInt(env, `${name}_CACHE_SIZE_PER_CONN`, 32, { min: 1, max: 65_536 }) * 1024 * 1024,
  };
}

export function readCaches(env: Env): CachesConfig {
  return {
    client: readCacheSettings(env, 'CLIENT', '5m', '30s'),
    user: readCacheSettings(env, 'USER', '5m', '30s'),
    token: readCacheSettings(env, 'TOKEN', '10h', '1h', readBool(env, 'TOKEN_CACHE_ENABLED', true)),
  };
}

// This server's own: with Redis, an invalidation (a revocation, a user or client cut off) returns once
// every instance has confirmed dropping its local copies, or after this long (logged and counted; see
// ops/cache.ts). 0 does not wait: other instances then drop their copies when the message arrives.
function readCacheInvalidationTimeout(env: Env): number {
  return readMilliseconds(env, 'CACHE_INVALIDATION_TIMEOUT', '1s', 0, 60_000);
}

// The workers of a cluster are several instances on one machine: each keeps its own caches, guessing
// counters and request-limit counters, which only Redis shares (a revocation seen by one worker must
// reach the others' caches at once; a guesser must not get one allowance per worker), and SQLite's
// group commit and connection turn belong to one process.
function requireSharedStateForWorkers(config: Config): void {
  if (config.webConcurrency === 1) return;
  const missing = [
    ...(config.database.dialect === 'postgresql' ? [] : ['PostgreSQL (DATABASE_URL=postgresql://…)']),
    ...(config.redisUrl ? [] : ['Redis (REDIS_URL)']),
  ];
  if (missing.length > 0) {
    throw new ConfigError(
      `WEB_CONCURRENCY=${config.webConcurrency} runs ${config.webConcurrency} server processes, which share state as several instances do: it needs ${missing.join(' and ')}; or set WEB_CONCURRENCY=1`,
    );
  }
}

function requireRedisForCaches(config: Config): void {
  if (config.redisUrl) return;
  for (const [name, settings] of Object.entries(config.caches)) {
    if (settings.type === 'redis' || settings.type === 'redis-aside') {
      throw new ConfigError(
        `${name.toUpperCase()}_CACHE_TYPE=${settings.type} needs Redis: set REDIS_URL (or RATE_LIMIT_STORE=redis with REDIS_ADDR, REDIS_PASSWORD, REDIS_DB)`,
      );
    }
  }
}
