// The core, assembled once: every face receives the same services.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { GroupCommit, Issuance, IssuanceStore } from '../db/issuance-writer.js';
import type { JwtSigner } from '../keys/jwt.js';
import { attemptLimiters, type LimitStore } from '../ops/attempt-limiter.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import type { Caches } from '../ops/cache.js';
import type { Logger } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { AttemptPolicy } from './attempt-policy.js';
import { AccountService } from './account.js';
import { AuditLog } from './audit.js';
import { AuditQueryService } from './audit-query.js';
import { AuthorizationCodeService } from './authorization-codes.js';
import { AuthorizationFlowService } from './authorization-flow.js';
import { ClientAdminService } from './client-admin.js';
import { ConsentService } from './consents.js';
import { IdTokenService } from './id-tokens.js';
import { ClientCredentialsService } from './client-credentials.js';
import { ClientRegistrationService } from './client-registration.js';
import { ClientService } from './clients.js';
import { DeviceCodeService } from './device-codes.js';
import { ExternalSignInService } from './external-sign-in.js';
import { createIdentityProviders } from '../identity/providers/index.js';
import { IntrospectionService } from './introspection.js';
import { RevocationService } from './revocation.js';
import { SessionService } from './sessions.js';
import { DatabaseSessionStore, RedisSessionStore } from './session-store.js';
import type { Redis } from 'ioredis';
import { HttpApiClient } from '../identity/http-api.js';
import { SignInService, type SignInSources } from './sign-in.js';
import { StatsService } from './stats.js';
import { TokenAdminService } from './token-admin.js';
import { TokenService } from './tokens.js';
import { UserCodeEntryService } from './user-code-entry.js';
import { UserInfoService } from './userinfo.js';
import { UserAdminService } from './user-admin.js';
import { UserService } from './users.js';

export interface Services {
  audit: AuditLog;
  users: UserService;
  clients: ClientService;
  registration: ClientRegistrationService;
  tokens: TokenService;
  deviceCodes: DeviceCodeService;
  authorizationCodes: AuthorizationCodeService;
  authorizationFlow: AuthorizationFlowService;
  consents: ConsentService;
  clientCredentials: ClientCredentialsService;
  sessions: SessionService;
  revocation: RevocationService;
  introspection: IntrospectionService;
  userInfo: UserInfoService;
  signIn: SignInService;
  userCodeEntry: UserCodeEntryService;
  userAdmin: UserAdminService;
  clientAdmin: ClientAdminService;
  tokenAdmin: TokenAdminService;
  auditQuery: AuditQueryService;
  account: AccountService;
  stats: StatsService;
  /** The instance's metrics, for the counters faces and ops code move (rate-limit hits, cache hits). */
  metrics: Metrics;
  externalSignIn: ExternalSignInService;
}

export function createServices(deps: {
  db: Db;
  config: Config;
  signer: JwtSigner;
  logger: Logger;
  limits: LimitStore;
  metrics: Metrics;
  caches: Caches;
  issuances: GroupCommit<Issuance, boolean>;
  /** Where device polls' times are written behind (the issuance store's writer). */
  pollStore: Pick<IssuanceStore, 'recordPolls'>;
  passwords: PasswordHasher;
  redis?: Redis;
}): Services {
  const { db, config, signer, logger, limits, metrics, caches, passwords } = deps;
  const audit = new AuditLog(db, logger, { ...config.audit, dialect: config.database.dialect, metrics });
  const users = new UserService(db, caches);
  const clients = new ClientService(db, audit, caches);
  const registration = new ClientRegistrationService(db, audit, config.dynamicRegistration, caches);
  const tokens = new TokenService(db, signer, config, audit, new IdTokenService(signer, config.baseUrl), metrics, caches, deps.issuances);
  const deviceCodes = new DeviceCodeService(db, clients, tokens, audit, config, metrics, caches, deps.pollStore);
  const sessions = new SessionService(sessionStore(config, db, deps.redis), config.session, metrics);
  const authorizationCodes = new AuthorizationCodeService(db, clients, tokens, audit, config, metrics, caches);
  const consents = new ConsentService(db, audit, { remember: config.consentRemember, dialect: config.database.dialect });
  const authorizationFlow = new AuthorizationFlowService(authorizationCodes, consents, audit);
  const clientCredentials = new ClientCredentialsService(clients, tokens);
  const revocation = new RevocationService(db, audit, config.database.dialect, metrics, caches);
  const introspection = new IntrospectionService(db, tokens, config, audit, metrics);
  const userInfo = new UserInfoService(tokens);
  // One password-guessing policy for signing in and for proving the current password.
  const passwordGuessing = new AttemptPolicy(attemptLimiters(limits, 'login'), audit, 'LOGIN_LOCKED_OUT');
  const signIn = new SignInService(db, audit, passwordGuessing, signInSources(config, logger, metrics), config.database.dialect, metrics, passwords);
  const userCodeEntry = new UserCodeEntryService(deviceCodes, new AttemptPolicy(attemptLimiters(limits, 'user_code'), audit, 'USER_CODE_LOCKED_OUT'));
  const userAdmin = new UserAdminService(db, audit, revocation, config.database.dialect, metrics, caches, sessions, passwords);
  const clientAdmin = new ClientAdminService(db, audit, config.database.dialect, caches);
  const tokenAdmin = new TokenAdminService(db, audit, revocation, metrics, caches);
  const auditQuery = new AuditQueryService(db);
  const account = new AccountService(db, audit, passwordGuessing, metrics, caches, sessions, passwords);
  const stats = new StatsService(db, config.database.dialect);
  const externalSignIn = new ExternalSignInService(db, audit, createIdentityProviders(config.externalSignIn, config.production), {
    autoRegister: config.externalSignIn.autoRegister,
    dialect: config.database.dialect,
  }, logger, metrics);
  return {
    audit, users, clients, registration, tokens, deviceCodes, authorizationCodes, authorizationFlow, consents, clientCredentials,
    sessions, revocation, introspection, userInfo, signIn, userCodeEntry, userAdmin, clientAdmin, tokenAdmin, auditQuery,
    account, stats, metrics, externalSignIn,
  };
}

/** The sign-in sources configured: local passwords always, the HTTP API user service when HTTP_API_URL is set. */
function signInSources(config: Config, logger: Logger, metrics: Metrics): SignInSources {
  return { authMode: config.authMode, httpApi: config.httpApi ? new HttpApiClient(config.httpApi, logger.child({ component: 'http_api' }), metrics) : undefined };
}

/** SESSION_STORE: the database (default) or the Redis every instance shares. */
function sessionStore(config: Config, db: Db, redis: Redis | undefined) {
  if (config.sessionStore === 'database') return new DatabaseSessionStore(db);
  if (!redis) throw new Error('SESSION_STORE=redis needs Redis: set REDIS_URL');
  return new RedisSessionStore(redis, config.redisKeyPrefix, config.session.maxAge * 1000);
}
