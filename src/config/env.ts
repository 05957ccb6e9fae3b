// Reads and validates the process environment into a typed Config. Every problem is a
// ConfigError naming the variable, so a misconfigured server refuses to start instead of
// silently running with something weaker.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../domain/errors.js';
import { parseDurationSeconds } from './duration.js';
import { resolveSecrets } from './secrets.js';
import type { SigningAlgorithm } from '../keys/signing-key.js';

export type DatabaseConfig = { dialect: 'sqlite'; file: string } | { dialect: 'postgresql'; url: string };

export interface Config {
  production: boolean;
  host: string;
  port: number;
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
   * Requests per address: device authorizations per minute, open registrations per hour; 0 = off.
   * failClosed: when the limit store (Redis) is down, refuse guarded actions (503) instead of letting them through.
   */
  rateLimits: { deviceCodePerMinute: number; registrationPerHour: number; failClosed: boolean };
  /** Shared state for several instances (attempt limits); unset = in memory. */
  redisUrl?: string;
  /** Namespace for this deployment's keys, so several deployments can share one Redis. */
  redisKeyPrefix: string;
  /** Origins allowed to call /oauth/* and /.well-known/* from browsers; empty = CORS off. */
  corsAllowedOrigins: string[];
  session: { secret: string; maxAge: number; idleTimeout: number };
  deviceCode: { expiration: number; interval: number };
  defaultAdminPassword?: string;
  /** Max body size for every endpoint; protocol requests are small. */
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  audit: { flushIntervalMs: number; batchSize: number };
  /** Trust X-Forwarded-* headers (behind a reverse proxy). */
  trustProxy: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  graphql: GraphQLConfig;
  // --- AuthGate protocol compatibility (issue 9): see readDeviceFlowCompat at the end of this file ---
  deviceFlow: DeviceFlowCompat;
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

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const { host, port } = readListenAddress(env);
  const baseUrl = readBaseUrl(env, port);
  const dataDir = resolve(env.DATA_DIR?.trim() || './data');
  const alg = readEnum(env, 'JWT_SIGNING_ALGORITHM', ['HS256', 'RS256', 'ES256'] as const, 'HS256');
  const secrets = resolveSecrets({ env, dataDir, production });
  const privateKeyPath = env.JWT_PRIVATE_KEY_PATH?.trim() || undefined;
  if (alg !== 'HS256' && !privateKeyPath) {
    throw new ConfigError(`JWT_PRIVATE_KEY_PATH is required when JWT_SIGNING_ALGORITHM=${alg}`);
  }
  const jwtExpiration = readDuration(env, 'JWT_EXPIRATION', '10h', { min: 60 });
  const refreshExpiration = readDuration(env, 'REFRESH_TOKEN_EXPIRATION', '720h', { min: 60 });
  const config: Config = {
    production,
    host,
    port,
    baseUrl,
    secureCookies: baseUrl.startsWith('https://'),
    dataDir,
    database: readDatabase(env, dataDir),
    jwt: {
      alg,
      secret: secrets.jwtSecret,
      privateKeyPath: privateKeyPath && (isAbsolute(privateKeyPath) ? privateKeyPath : resolve(privateKeyPath)),
      keyId: env.JWT_KEY_ID?.trim() || undefined,
      expiration: jwtExpiration,
      expirationJitter: readDuration(env, 'JWT_EXPIRATION_JITTER', '0', { min: 0, max: jwtExpiration }),
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
    corsAllowedOrigins: readOrigins(env, 'CORS_ALLOWED_ORIGINS'),
    rateLimits: {
      deviceCodePerMinute: readInt(env, 'RATE_LIMIT_DEVICE_CODE', 30, { min: 0, max: 100_000 }),
      registrationPerHour: readInt(env, 'RATE_LIMIT_REGISTRATION', 20, { min: 0, max: 100_000 }),
      failClosed: readBool(env, 'RATE_LIMIT_FAIL_CLOSED', false),
    },
    redisUrl: readRedisUrl(env),
    redisKeyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'authgate:',
    session: {
      secret: secrets.sessionSecret,
      maxAge: readDuration(env, 'SESSION_MAX_AGE', '24h', { min: 60 }),
      idleTimeout: readDuration(env, 'SESSION_IDLE_TIMEOUT', '2h', { min: 60 }),
    },
    deviceCode: {
      expiration: readDuration(env, 'DEVICE_CODE_EXPIRATION', '30m', { min: 1 }),
      interval: readDuration(env, 'DEVICE_CODE_POLLING_INTERVAL', '5s', { min: 1, max: 60 }),
    },
    defaultAdminPassword: env.DEFAULT_ADMIN_PASSWORD || undefined,
    bodyLimitBytes: 64 * 1024,
    shutdownTimeoutMs: readDuration(env, 'SHUTDOWN_TIMEOUT', '10s', { min: 1 }) * 1000,
    audit: {
      flushIntervalMs: readDuration(env, 'AUDIT_FLUSH_INTERVAL', '1s', { min: 0 }) * 1000 || 1000,
      batchSize: readInt(env, 'AUDIT_BATCH_SIZE', 100, { min: 1, max: 10_000 }),
    },
    trustProxy: readBool(env, 'TRUST_PROXY', false),
    logLevel: readEnum(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    graphql: readGraphQLConfig(env, production),
    deviceFlow: readDeviceFlowCompat(env),
  };
  if (config.defaultAdminPassword !== undefined && config.defaultAdminPassword.length < 8) {
    throw new ConfigError('DEFAULT_ADMIN_PASSWORD must be at least 8 characters');
  }
  if (production && !config.baseUrl.startsWith('https://') && !isLoopbackUrl(config.baseUrl)) {
    throw new ConfigError('BASE_URL must use https:// when NODE_ENV=production');
  }
  return config;
}

// Per-client token profiles (short / standard / long). Each is overridable and each is capped by
// JWT_EXPIRATION_MAX / REFRESH_TOKEN_EXPIRATION_MAX: a profile above its cap is a startup error,
// not a silent clamp, so nobody believes tokens live longer (or shorter) than they do.
function readTokenProfiles(env: Env, standardAccess: number, standardRefresh: number): Config['tokenProfiles'] {
  const maxAccess = readDuration(env, 'JWT_EXPIRATION_MAX', '24h', { min: 60 });
  const maxRefresh = readDuration(env, 'REFRESH_TOKEN_EXPIRATION_MAX', '2160h', { min: 60 });
  const profiles: Config['tokenProfiles'] = {
    short: {
      access: readDuration(env, 'TOKEN_PROFILE_SHORT_ACCESS_EXPIRATION', '15m', { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_SHORT_REFRESH_EXPIRATION', '24h', { min: 60 }),
    },
    standard: {
      access: readDuration(env, 'TOKEN_PROFILE_STANDARD_ACCESS_EXPIRATION', String(standardAccess), { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_STANDARD_REFRESH_EXPIRATION', String(standardRefresh), { min: 60 }),
    },
    long: {
      access: readDuration(env, 'TOKEN_PROFILE_LONG_ACCESS_EXPIRATION', '24h', { min: 60 }),
      refresh: readDuration(env, 'TOKEN_PROFILE_LONG_REFRESH_EXPIRATION', '2160h', { min: 60 }),
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

function readRedisUrl(env: Env): string | undefined {
  const url = env.REDIS_URL?.trim();
  if (!url) return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new ConfigError('REDIS_URL must start with redis:// or rediss://');
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

// SERVER_ADDR follows AuthGate (":8080" or "host:port"); PORT is the common platform variable.
function readListenAddress(env: Env): { host: string; port: number } {
  const addr = env.SERVER_ADDR?.trim();
  if (addr) {
    const match = /^(.*):(\d{1,5})$/.exec(addr);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) throw new ConfigError(`SERVER_ADDR must look like ":8080" or "127.0.0.1:8080", got "${addr}"`);
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
  }
  const port = readInt(env, 'PORT', 8080, { min: 0, max: 65535 });
  return { host: env.HOST?.trim() || '0.0.0.0', port };
}

function readBaseUrl(env: Env, port: number): string {
  const raw = env.BASE_URL?.trim() || `http://localhost:${port}`;
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

function readDatabase(env: Env, dataDir: string): DatabaseConfig {
  const url = env.DATABASE_URL?.trim();
  if (!url) return { dialect: 'sqlite', file: join(dataDir, 'authgate.db') };
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgresql', url };
  if (url.startsWith('file:')) return { dialect: 'sqlite', file: resolve(url.slice('file:'.length)) };
  throw new ConfigError('DATABASE_URL must start with postgres://, postgresql:// or file: (leave it unset for the embedded SQLite database)');
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
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

export function readInt(env: Env, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < range.min || value > range.max) {
    throw new ConfigError(`${name} must be an integer between ${range.min} and ${range.max}, got "${raw}"`);
  }
  return value;
}

export function readDuration(env: Env, name: string, fallback: string, range: { min: number; max?: number }): number {
  const raw = env[name]?.trim() || fallback;
  const seconds = parseDurationSeconds(raw);
  if (seconds === null) throw new ConfigError(`${name} must be a duration like "30s", "15m", "10h" or a number of seconds, got "${raw}"`);
  if (seconds < range.min) throw new ConfigError(`${name} must be at least ${range.min} seconds, got "${raw}"`);
  if (range.max !== undefined && seconds > range.max) throw new ConfigError(`${name} must be at most ${range.max} seconds, got "${raw}"`);
  return seconds;
}

export function readEnum<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
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
