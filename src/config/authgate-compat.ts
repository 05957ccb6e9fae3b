// AuthGate compatibility for configuration: one table of every variable this server reads (under
// AuthGate's name where AuthGate has the concept, with this server's older names kept as aliases), and
// the list of AuthGate variables this server knows but does not implement. loadConfig (env.ts) resolves
// aliases and checks the unimplemented list through this module; `--help` prints the same table.
//
// Rules:
// - an alias and its AuthGate name both set and meaning different things → startup error naming both;
// - an AuthGate variable this server does not implement, set → one warning naming it, unless its value
//   asks for exactly what this server does anyway (e.g. TOKEN_PROVIDER_MODE=local);
// - such a variable whose value changes security and cannot be honoured (TOKEN_PROVIDER_MODE=http_api,
//   session fingerprinting, ...) → startup error naming it.
import { ConfigError } from '../domain/errors.js';
import { parseDurationSeconds } from './duration.js';

type Env = Record<string, string | undefined>;
export type Kind = 'duration' | 'int' | 'bool' | 'string';

export interface Variable {
  /** The name read (AuthGate's where AuthGate has the concept). */
  name: string;
  /** This server's own earlier names, read as the same variable. */
  aliases?: string[];
  kind: Kind;
  default: string;
  description: string;
  /** false: this server's own variable, unknown to AuthGate. */
  authgate: boolean;
}

const v = (name: string, kind: Kind, def: string, description: string, extra: Partial<Variable> = {}): Variable => ({
  name,
  kind,
  default: def,
  description,
  authgate: true,
  ...extra,
});
const own = { authgate: false };

/** Every variable this server reads, in the order `--help` and the README show them. */
export const VARIABLES: Variable[] = [
  v('SERVER_ADDR', 'string', ':8080', 'Listen address, ":8080" or "127.0.0.1:8080"; PORT and HOST are accepted too and must agree with it'),
  v('PORT', 'int', '8080', 'Listen port when SERVER_ADDR is unset', own),
  v('HOST', 'string', '0.0.0.0', 'Listen host when SERVER_ADDR is unset', own),
  v('BASE_URL', 'string', 'http://localhost:PORT', 'Public URL: token issuer and base of verification_uri; https in production'),
  v('TLS_CERT_FILE', 'string', '', 'PEM certificate (full chain); with TLS_KEY_FILE the server speaks HTTPS on SERVER_ADDR'),
  v('TLS_KEY_FILE', 'string', '', 'PEM private key for TLS_CERT_FILE; setting only one of the two is an error'),
  v('ENVIRONMENT', 'string', '', '"production" (or true) has the same effect as NODE_ENV=production'),
  v('NODE_ENV', 'string', '', 'production refuses missing, short or well-known secrets and a non-https BASE_URL', own),
  v('DATA_DIR', 'string', './data', 'Default SQLite database, generated development secrets, first-run credentials', own),
  v('DATABASE_DRIVER', 'string', 'sqlite', '"sqlite" or "postgres"'),
  v('DATABASE_DSN', 'string', '$DATA_DIR/authgate.db', 'SQLite: a file path; PostgreSQL: "host=… user=… password=… dbname=… port=… sslmode=…" or a postgres:// URL', {
    aliases: ['DATABASE_PATH'],
  }),
  v('DATABASE_URL', 'string', '', 'postgres://… or file:path; the same as DATABASE_DRIVER + DATABASE_DSN, which must agree with it when both are set', own),
  v('DB_INIT_TIMEOUT', 'duration', '30s', 'Database connection and migration at startup'),
  v('DB_CLOSE_TIMEOUT', 'duration', '5s', 'Closing the database at shutdown'),
  v('JWT_SIGNING_ALGORITHM', 'string', 'HS256', 'HS256, RS256 (2048+ bit RSA) or ES256 (P-256)'),
  v('JWT_SECRET', 'string', '(generated in development)', 'HS256 key, at least 32 characters; required in production'),
  v('JWT_PRIVATE_KEY_PATH', 'string', '', 'PEM private key for RS256/ES256'),
  v('JWT_KEY_ID', 'string', '(RFC 7638 thumbprint)', 'kid header'),
  v('JWT_EXPIRATION', 'duration', '10h', 'Access token lifetime'),
  v('JWT_EXPIRATION_JITTER', 'duration', '30m', 'Random extra lifetime in [0, jitter) on standard-profile tokens whose lifetime is JWT_EXPIRATION; must be less than JWT_EXPIRATION'),
  v('JWT_EXPIRATION_MAX', 'duration', '24h', 'Cap on every access-token profile'),
  v('ENABLE_REFRESH_TOKENS', 'bool', 'true', 'Issue refresh tokens with user grants'),
  v('ENABLE_TOKEN_ROTATION', 'bool', 'false', 'Each refresh returns a new refresh token; reuse of an old one revokes the family'),
  v('REFRESH_TOKEN_EXPIRATION', 'duration', '720h', 'Refresh token lifetime'),
  v('REFRESH_TOKEN_EXPIRATION_MAX', 'duration', '2160h', 'Cap on every refresh-token profile'),
  v('REFRESH_TOKEN_ROTATION_GRACE', 'duration', '5s', 'With rotation: a retry of the just-rotated token within this window gets the same successor (0 = strict)', own),
  v('TOKEN_PROFILE_SHORT_ACCESS_TTL', 'duration', '15m', 'Short profile access lifetime', { aliases: ['TOKEN_PROFILE_SHORT_ACCESS_EXPIRATION'] }),
  v('TOKEN_PROFILE_SHORT_REFRESH_TTL', 'duration', '24h', 'Short profile refresh lifetime', { aliases: ['TOKEN_PROFILE_SHORT_REFRESH_EXPIRATION'] }),
  v('TOKEN_PROFILE_STANDARD_ACCESS_TTL', 'duration', 'JWT_EXPIRATION', 'Standard profile access lifetime', { aliases: ['TOKEN_PROFILE_STANDARD_ACCESS_EXPIRATION'] }),
  v('TOKEN_PROFILE_STANDARD_REFRESH_TTL', 'duration', 'REFRESH_TOKEN_EXPIRATION', 'Standard profile refresh lifetime', {
    aliases: ['TOKEN_PROFILE_STANDARD_REFRESH_EXPIRATION'],
  }),
  v('TOKEN_PROFILE_LONG_ACCESS_TTL', 'duration', '24h', 'Long profile access lifetime', { aliases: ['TOKEN_PROFILE_LONG_ACCESS_EXPIRATION'] }),
  v('TOKEN_PROFILE_LONG_REFRESH_TTL', 'duration', '2160h', 'Long profile refresh lifetime', { aliases: ['TOKEN_PROFILE_LONG_REFRESH_EXPIRATION'] }),
  v('CLIENT_CREDENTIALS_TOKEN_EXPIRATION', 'duration', '1h', 'Access token lifetime for the client credentials grant'),
  v('AUTH_CODE_EXPIRATION', 'duration', '10m', 'Authorization code lifetime'),
  v('PKCE_REQUIRED', 'bool', 'false', 'Require PKCE for confidential clients too'),
  v('CONSENT_REMEMBER', 'bool', 'true', 'Skip the consent page when the same or wider scopes were granted'),
  v('DEVICE_CODE_EXPIRATION', 'duration', '30m', 'Device code lifetime', own),
  v('DEVICE_CODE_POLLING_INTERVAL', 'duration', '5s', 'Minimum device polling interval', own),
  v('AUTH_MODE', 'string', 'local', '"local" (accounts made by an admin) or "http_api" (an unknown username is checked with HTTP_API_URL and its account created on success); the seeded admin and local accounts always sign in locally'),
  v('HTTP_API_URL', 'string', '', 'User service: POST {"username","password"} → {"success","user_id","email","full_name"}; required with AUTH_MODE=http_api'),
  v('HTTP_API_TIMEOUT', 'duration', '10s', 'Bounds the whole sign-in call to the user service, retries included'),
  v('HTTP_API_MAX_RETRIES', 'int', '3', 'Retries on network errors, 5xx and 429 (never on another 4xx or success:false); 0 = none'),
  v('HTTP_API_RETRY_DELAY', 'duration', '1s', 'First retry delay, doubled per retry ("500ms" allowed)'),
  v('HTTP_API_MAX_RETRY_DELAY', 'duration', '10s', 'Longest retry delay'),
  v('HTTP_API_AUTH_MODE', 'string', 'none', '"none", "simple" (HTTP_API_AUTH_SECRET in HTTP_API_AUTH_HEADER) or "hmac" (X-Signature, X-Timestamp, X-Nonce)'),
  v('HTTP_API_AUTH_SECRET', 'string', '', 'Shared secret for simple or hmac; required with them'),
  v('HTTP_API_AUTH_HEADER', 'string', 'X-API-Secret', 'Header carrying the secret in simple mode'),
  v('HTTP_API_INSECURE_SKIP_VERIFY', 'bool', 'false', "Accept any TLS certificate from the user service; refused in production"),
  v('DEFAULT_ADMIN_PASSWORD', 'string', '(random)', 'Password of the admin user created on first run (8+ characters)'),
  v('PASSWORD_HASH_WORKERS', 'int', '1 on up to 2 cores, else cores - 1', 'Threads that hash and check passwords (bcrypt) at lowered CPU priority, off the event loop; 0 = on the main thread', own),
  v('SESSION_SECRET', 'string', '(generated in development)', 'Signs the session cookie, at least 32 characters; required in production'),
  v('SESSION_MAX_AGE', 'duration', '3600', 'Absolute session lifetime (seconds, or a duration)'),
  v('SESSION_STORE', 'string', 'database', 'Where browser sessions live: database (the sessions table) or redis (shared by all instances; needs Redis)', own),
  v('SESSION_IDLE_TIMEOUT', 'duration', '1800', 'Session ends after this long without a request; 0 = only SESSION_MAX_AGE applies'),
  v('ENABLE_DYNAMIC_CLIENT_REGISTRATION', 'bool', 'false', 'Mount POST /oauth/register'),
  v('DYNAMIC_CLIENT_REGISTRATION_TOKEN', 'string', '', 'Bearer token for trusted registrations (32+ characters)'),
  v('DYNAMIC_CLIENT_REGISTRATION_RATE_LIMIT', 'int', '5', 'Open registrations per minute per address (0 = off); RATE_LIMIT_REGISTRATION (per hour) is accepted too', {
    aliases: ['RATE_LIMIT_REGISTRATION'],
  }),
  v('ENABLE_RATE_LIMIT', 'bool', 'true', 'false switches off the per-endpoint request limits below (sign-in and user-code guessing limits stay)'),
  v('RATE_LIMIT_STORE', 'string', 'memory', '"memory" or "redis" (REDIS_ADDR…, or REDIS_URL)'),
  v('DEVICE_CODE_RATE_LIMIT', 'int', '10', 'POST /oauth/device/code per minute per client (authenticated) or address (0 = off)', { aliases: ['RATE_LIMIT_DEVICE_CODE'] }),
  v('LOGIN_RATE_LIMIT', 'int', '5', 'POST /login per minute per address (0 = off; failed sign-ins are limited per account and address regardless)'),
  v('TOKEN_RATE_LIMIT', 'int', '20', 'POST /oauth/token per minute per client (authenticated) or address (0 = off)'),
  v('DEVICE_VERIFY_RATE_LIMIT', 'int', '10', 'POST /device/verify per minute per address (0 = off; wrong user codes are limited regardless)'),
  v('INTROSPECT_RATE_LIMIT', 'int', '20', 'POST /oauth/introspect per minute per client (authenticated) or address (0 = off)'),
  v('RATE_LIMIT_FAIL_CLOSED', 'bool', 'false', 'When Redis is down at run time, refuse limited actions (503) instead of letting them through', own),
  v('REDIS_ADDR', 'string', 'localhost:6379', 'Redis host:port, used when RATE_LIMIT_STORE=redis'),
  v('REDIS_PASSWORD', 'string', '', 'Redis password'),
  v('REDIS_DB', 'int', '0', 'Redis database number'),
  v('REDIS_URL', 'string', '', 'redis://… : shared limits and audit stream across instances; the same as RATE_LIMIT_STORE=redis + REDIS_ADDR…, which must agree with it', own),
  v('REDIS_KEY_PREFIX', 'string', 'authgate:', "Namespace for this deployment's Redis keys", own),
  v('REDIS_CONN_TIMEOUT', 'duration', '5s', 'Connecting to Redis at startup'),
  v('REDIS_CLOSE_TIMEOUT', 'duration', '5s', 'Closing Redis at shutdown'),
  // Caches (issue 11): see src/ops/cache.ts.
  v('USER_CACHE_TYPE', 'string', 'memory', 'User cache (the session\'s user, each request): memory, redis, redis-aside, or none (this server only: no cache)'),
  v('USER_CACHE_TTL', 'duration', '5m', 'Lifetime of a cached user; every change invalidates it at once'),
  v('USER_CACHE_CLIENT_TTL', 'duration', '30s', 'redis-aside: lifetime of the local copy'),
  v('USER_CACHE_SIZE_PER_CONN', 'int', '32', 'MB bound of the local copy (memory, redis-aside)'),
  v('CLIENT_CACHE_TYPE', 'string', 'memory', 'Client cache (client authentication): memory, redis, redis-aside, or none (this server only)'),
  v('CLIENT_CACHE_TTL', 'duration', '5m', 'Lifetime of a cached client; every change invalidates it at once'),
  v('CLIENT_CACHE_CLIENT_TTL', 'duration', '30s', 'redis-aside: lifetime of the local copy'),
  v('CLIENT_CACHE_SIZE_PER_CONN', 'int', '32', 'MB bound of the local copy (memory, redis-aside)'),
  v('TOKEN_CACHE_ENABLED', 'bool', 'true', 'Cache access-token status for tokeninfo, introspection, userinfo and GraphQL bearer tokens'),
  v('TOKEN_CACHE_TYPE', 'string', 'memory', 'memory, redis, redis-aside, or none (this server only)'),
  v('TOKEN_CACHE_TTL', 'duration', '10h', 'Lifetime of a cached token status; every revocation invalidates at once'),
  v('TOKEN_CACHE_CLIENT_TTL', 'duration', '1h', 'redis-aside: lifetime of the local copy'),
  v('TOKEN_CACHE_SIZE_PER_CONN', 'int', '32', 'MB bound of the local copy (memory, redis-aside)'),
  v('CACHE_INVALIDATION_TIMEOUT', 'duration', '1s', 'With Redis: how long a change waits for every instance to confirm dropping its local copies (0 = no wait)', own),
  v('CORS_ENABLED', 'bool', 'true when CORS_ALLOWED_ORIGINS is set', 'CORS on /oauth/* and /.well-known/*'),
  v('CORS_ALLOWED_ORIGINS', 'string', '', 'Comma-separated origins'),
  v('CORS_ALLOWED_METHODS', 'string', 'GET,POST,PUT,DELETE,OPTIONS', 'Access-Control-Allow-Methods of preflights'),
  v('CORS_ALLOWED_HEADERS', 'string', 'Origin,Content-Type,Authorization', 'Access-Control-Allow-Headers of preflights'),
  v('CORS_MAX_AGE', 'duration', '12h', 'Access-Control-Max-Age of preflights'),
  v('ENABLE_AUDIT_LOGGING', 'bool', 'true', 'false stops the per-request audit events; changes that matter for security (admin and account changes, mass revocations, replays, registrations) are still recorded'),
  v('AUDIT_LOG_RETENTION', 'duration', '2160h', 'Audit events older than this are deleted, in chunks, by housekeeping (0 = keep forever; else at least 1h)'),
  v('AUDIT_LOG_CLEANUP_INTERVAL', 'duration', '24h', 'How often the retention cleanup runs (first run a minute after startup)'),
  v('AUDIT_LOG_BUFFER_SIZE', 'int', '10000 (at least 4 batches)', 'Events held in memory while the database is slow; the oldest are dropped beyond it'),
  v('AUDIT_FLUSH_INTERVAL', 'duration', '1s', 'Audit buffer flush period', own),
  v('AUDIT_BATCH_SIZE', 'int', '100', 'Audit rows per write', own),
  v('SERVER_SHUTDOWN_TIMEOUT', 'duration', '5s', 'How long shutdown waits for in-flight requests', { aliases: ['SHUTDOWN_TIMEOUT'] }),
  v('AUDIT_SHUTDOWN_TIMEOUT', 'duration', '10s', 'How long shutdown waits for the audit buffer to be written'),
  v('SERVER_KEEP_ALIVE_TIMEOUT', 'duration', '5s', 'How long an idle keep-alive connection stays open (1s to 10m); behind a load balancer, longer than its idle timeout', own),
  v('TRUST_PROXY', 'bool', 'false', 'Trust X-Forwarded-* behind a reverse proxy', own),
  v('GRAPHQL_INTROSPECTION', 'bool', 'on outside production', 'Schema introspection on /graphql', own),
  v('GRAPHIQL', 'bool', 'on outside production', 'GraphiQL at GET /graphql', own),
  v('GRAPHQL_MAX_DEPTH', 'int', '10', 'GraphQL operation depth limit', own),
  v('GRAPHQL_MAX_COST', 'int', '5000', 'GraphQL operation cost limit', own),
  v('GRAPHQL_MAX_ALIASES', 'int', '15', 'GraphQL aliases per operation', own),
  v('GRAPHQL_MAX_BATCH', 'int', '5', 'GraphQL operations per batched request', own),
  v('LOG_LEVEL', 'string', 'info', 'debug, info, warn, error, silent', own),
  v('METRICS_ENABLED', 'bool', 'false', 'Serve Prometheus metrics at GET /metrics'),
  v('METRICS_TOKEN', 'string', '', 'Bearer token /metrics requires (32+ characters); unset = no authentication'),
  v('METRICS_GAUGE_UPDATE_ENABLED', 'bool', 'true', 'This instance refreshes the gauges that need database counts (enable on one replica only)'),
  v('METRICS_GAUGE_UPDATE_INTERVAL', 'duration', '5m', 'How often those gauges are refreshed'),
  // --- Sign-in through external identity providers (issue 12) ---
  ...['GITHUB', 'GITEA', 'GITLAB', 'MICROSOFT'].flatMap((p) => {
    const name = p === 'GITHUB' ? 'GitHub' : p === 'GITEA' ? 'Gitea' : p === 'GITLAB' ? 'GitLab' : 'Microsoft Entra ID';
    const scopes = { GITHUB: 'user:email', GITEA: 'read:user', GITLAB: 'read_user', MICROSOFT: 'openid,profile,email,User.Read' }[p]!;
    return [
      v(`${p}_OAUTH_ENABLED`, 'bool', 'false', `Sign in with ${name} (a button on /login)`),
      v(`${p}_CLIENT_ID`, 'string', '', `OAuth client id registered at ${name}`),
      v(`${p}_CLIENT_SECRET`, 'string', '', `OAuth client secret registered at ${name}`),
      v(`${p}_REDIRECT_URL`, 'string', `BASE_URL/oauth/${p.toLowerCase()}/callback`, `redirect_uri sent to ${name}, exactly (…/oauth/${p.toLowerCase()}/callback or …/auth/callback/${p.toLowerCase()})`),
      v(`${p}_SCOPES`, 'string', scopes, `Scopes requested from ${name} (comma or space separated)`),
    ];
  }),
  v('GITHUB_URL', 'string', 'https://github.com', 'GitHub web address (GitHub Enterprise Server: https://github.example.com)'),
  v('GITHUB_API_URL', 'string', 'https://api.github.com (GITHUB_URL/api/v3 for Enterprise)', 'GitHub REST API root'),
  v('GITEA_URL', 'string', '', 'Gitea address (required with GITEA_OAUTH_ENABLED)'),
  v('GITLAB_URL', 'string', 'https://gitlab.com', 'GitLab address (self-managed GitLab)'),
  v('MICROSOFT_TENANT_ID', 'string', 'common', 'Entra ID tenant (id, domain, common, organizations or consumers)'),
  v('MICROSOFT_AUTHORITY_URL', 'string', 'https://login.microsoftonline.com', 'Entra ID authority (national clouds)', own),
  v('OIDC_PROVIDERS', 'string', '', 'Generic OpenID Connect providers, name1,name2; each configured by OIDC_<NAME>_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _SCOPES (openid profile email), _DISPLAY_NAME, _REDIRECT_URL', own),
  v('OAUTH_AUTO_REGISTER', 'bool', 'true', 'Create the account on first sign-in through a provider; false: the person is told to ask an admin'),
  v('OAUTH_TIMEOUT', 'duration', '15s', 'Bounds every request to a provider'),
  v('OAUTH_INSECURE_SKIP_VERIFY', 'bool', 'false', "Skip provider TLS certificate checks (development only; refused in production)"),
];

interface Unimplemented {
  names: string[];
  /** Why it has no effect here (shown in the warning and in --help). */
  reason: string;
  /** Values that ask for what this server does anyway: accepted without a warning. */
  honoured?: (value: string) => boolean;
  /** Values that would change security and cannot be honoured: startup stops. Returns why, or undefined. */
  refuse?: (value: string) => string | undefined;
  /** For --help: the values accepted where others stop startup. */
  accepts?: string;
}

const isFalse = (value: string) => ['false', '0', 'no', 'off'].includes(value.trim().toLowerCase());
const isTrue = (value: string) => ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());

/** AuthGate variables this server does not implement. */
export const UNIMPLEMENTED: Unimplemented[] = [
  {
    names: ['TOKEN_PROVIDER_MODE'],
    reason: 'tokens are always issued by this server',
    honoured: (value) => value.trim() === 'local',
    accepts: 'local',
    refuse: (value) => (value.trim() === 'local' ? undefined : 'issuing tokens through an external HTTP API is not implemented'),
  },
  {
    names: ['TOKEN_API_URL', 'TOKEN_API_TIMEOUT', 'TOKEN_API_INSECURE_SKIP_VERIFY', 'TOKEN_API_AUTH_MODE', 'TOKEN_API_AUTH_SECRET', 'TOKEN_API_AUTH_HEADER', 'TOKEN_API_MAX_RETRIES', 'TOKEN_API_RETRY_DELAY', 'TOKEN_API_MAX_RETRY_DELAY'],
    reason: 'an external token provider (TOKEN_PROVIDER_MODE=http_api) is not implemented',
  },
  {
    names: ['SESSION_FINGERPRINT', 'SESSION_FINGERPRINT_IP'],
    reason: 'sessions are not bound to a User-Agent or address fingerprint',
    honoured: isFalse,
    accepts: 'false',
    refuse: (value) => (isFalse(value) ? undefined : 'session fingerprinting is not implemented'),
  },
  { names: ['SESSION_REMEMBER_ME_ENABLED', 'SESSION_REMEMBER_ME_MAX_AGE'], reason: 'there is no "remember me" session; SESSION_MAX_AGE applies to all', honoured: isFalse },
  {
    names: ['JWT_PRIVATE_KEY_PEM'],
    reason: 'the signing key is read from JWT_PRIVATE_KEY_PATH only',
    refuse: () => 'an inline PEM key is not read; put the key in a file and set JWT_PRIVATE_KEY_PATH',
  },
  {
    names: ['JWT_AUDIENCE'],
    reason: 'access tokens carry no configurable aud',
    refuse: () => 'a configured access-token audience is not implemented; resource servers checking it would reject every token',
  },
  { names: ['JWT_DOMAIN', 'JWT_PRIVATE_CLAIM_PREFIX'], reason: 'access tokens carry no domain or prefixed private claims' },
  { names: ['EXTRA_CLAIMS_ENABLED', 'EXTRA_CLAIMS_MAX_RAW_SIZE', 'EXTRA_CLAIMS_MAX_KEYS', 'EXTRA_CLAIMS_MAX_VAL_SIZE'], reason: 'caller-supplied extra_claims are not accepted', honoured: isFalse },
  { names: ['DB_MAX_OPEN_CONNS', 'DB_MAX_IDLE_CONNS', 'DB_CONN_MAX_LIFETIME', 'DB_CONN_MAX_IDLE_TIME'], reason: 'the database pool uses fixed settings' },
  { names: ['DB_LOG_LEVEL'], reason: 'SQL is not logged; LOG_LEVEL sets the server log' },
  { names: ['GIN_MODE'], reason: 'this server is not built on Gin; LOG_LEVEL sets the log detail' },
  { names: ['ENABLE_SWAGGER'], reason: 'not read by this server' },
  { names: ['STATIC_CACHE_MAX_AGE'], reason: 'static files use fixed cache headers' },
  { names: ['RATE_LIMIT_CLEANUP_INTERVAL'], reason: 'limit counters expire on their own' },
  { names: ['ENABLE_EXPIRED_TOKEN_CLEANUP', 'EXPIRED_TOKEN_CLEANUP_INTERVAL'], reason: 'expired tokens and codes are always cleaned up every 10 minutes (tokens a week after expiry)', honoured: isTrue },
  {
    // Each instance keeps its gauge counts in memory between refreshes (AuthGate's memory cache); one
    // replica can own the counts with METRICS_GAUGE_UPDATE_ENABLED instead of a shared cache.
    names: ['METRICS_CACHE_TYPE', 'METRICS_CACHE_CLIENT_TTL', 'METRICS_CACHE_SIZE_PER_CONN'],
    reason: 'gauge counts are kept per instance (as AuthGate\'s memory cache); set METRICS_GAUGE_UPDATE_ENABLED=true on one replica only',
    honoured: (value) => value.trim().toLowerCase() === 'memory',
  },
  {
    names: ['CLIENT_COUNT_CACHE_TYPE', 'CLIENT_COUNT_CACHE_TTL', 'CLIENT_COUNT_CACHE_CLIENT_TTL', 'CLIENT_COUNT_CACHE_SIZE_PER_CONN'],
    reason: 'there is no client count cache',
  },
  { names: ['CACHE_INIT_TIMEOUT', 'CACHE_CLOSE_TIMEOUT'], reason: 'caches open and close with the Redis connection (REDIS_CONN_TIMEOUT, REDIS_CLOSE_TIMEOUT)' },
];

export const UNIMPLEMENTED_NAMES: string[] = UNIMPLEMENTED.flatMap((u) => u.names);

const isSet = (env: Env, name: string) => env[name] !== undefined && env[name]!.trim() !== '';

/**
 * Warnings for set-but-unimplemented AuthGate variables; throws for those that change security.
 * Unimplemented variables whose value asks for what this server does anyway pass silently.
 */
export function checkUnimplemented(env: Env): string[] {
  const warnings: string[] = [];
  for (const entry of UNIMPLEMENTED) {
    for (const name of entry.names) {
      if (!isSet(env, name)) continue;
      const value = env[name]!;
      const refusal = entry.refuse?.(value);
      if (refusal) throw new ConfigError(`${name}=${value.trim()}: ${refusal}; this server cannot honour it, so it will not start`);
      if (entry.honoured?.(value)) continue;
      warnings.push(`${name} is set but not implemented by this server and has no effect: ${entry.reason}`);
    }
  }
  return warnings;
}

/** The values two settings compare by: the same duration, number or switch written differently agrees. */
function normalised(kind: Kind, value: string): string {
  const raw = value.trim();
  if (kind === 'duration') return String(parseDurationSeconds(raw) ?? raw);
  if (kind === 'int') return /^\d+$/.test(raw) ? String(Number(raw)) : raw;
  if (kind === 'bool') return isTrue(raw) ? 'true' : isFalse(raw) ? 'false' : raw;
  return raw;
}

const ALIASED = new Set(VARIABLES.flatMap((variable) => variable.aliases ?? []));
/** Aliases whose unit differs from the AuthGate name's: resolved in env.ts, not here. */
const SPECIAL_ALIASES = new Set(['RATE_LIMIT_REGISTRATION']);

/**
 * Resolves aliases onto AuthGate's names: returns a copy of env where each variable is under its
 * AuthGate name, and the name each value came from (for messages). Throws when an alias and its
 * AuthGate name are both set and disagree.
 */
export function resolveAliases(env: Env): { env: Env; setAs: Map<string, string> } {
  const out: Env = { ...env };
  const setAs = new Map<string, string>();
  for (const variable of VARIABLES) {
    for (const alias of variable.aliases ?? []) {
      if (SPECIAL_ALIASES.has(alias) || !isSet(env, alias)) continue;
      if (isSet(env, variable.name)) {
        if (normalised(variable.kind, env[variable.name]!) !== normalised(variable.kind, env[alias]!)) {
          throw new ConfigError(
            `${variable.name}=${env[variable.name]!.trim()} and ${alias}=${env[alias]!.trim()} disagree (${alias} is this server's older name for ${variable.name}); set only one of them`,
          );
        }
        continue;
      }
      out[variable.name] = env[alias];
      setAs.set(variable.name, alias);
    }
  }
  return { env: out, setAs };
}

export function isAlias(name: string): boolean {
  return ALIASED.has(name);
}

/** The configuration reference printed by `--help`: the same table the reader uses. */
export function configurationReference(): string {
  const lines: string[] = ['Configuration (environment variables; a .env file in the working directory is read too):', ''];
  const width = Math.max(...VARIABLES.map((variable) => variable.name.length)) + 2;
  for (const variable of VARIABLES) {
    const def = variable.default === '' ? '' : ` [default: ${variable.default}]`;
    const alias = variable.aliases?.length ? ` (also read as ${variable.aliases.join(', ')})` : '';
    const origin = variable.authgate ? '' : ' (this server only)';
    lines.push(`  ${variable.name.padEnd(width)}${variable.description}${def}${alias}${origin}`);
  }
  lines.push('', "AuthGate variables accepted but not implemented (a warning at startup when set; those marked ! stop startup when they ask for something this server cannot do):", '');
  for (const entry of UNIMPLEMENTED) {
    const refusal = entry.refuse ? (entry.accepts ? ` (only "${entry.accepts}" is accepted; anything else stops startup)` : ' (setting it stops startup)') : '';
    lines.push(`  ${entry.refuse ? '! ' : '  '}${entry.names.join(', ')}${refusal}`);
    lines.push(`      ${entry.reason}`);
  }
  lines.push('', 'Durations are Go-style (30s, 15m, 10h, 1h30m) or plain seconds. Any malformed value stops startup with an error naming the variable.');
  return lines.join('\n');
}
