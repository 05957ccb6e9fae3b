// The core, assembled once: every face receives the same services.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { JwtSigner } from '../keys/jwt.js';
import { attemptLimiters, type LimitStore } from '../ops/attempt-limiter.js';
import type { Logger } from '../ops/logger.js';
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
import { SignInService } from './sign-in.js';
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
  externalSignIn: ExternalSignInService;
}

export function createServices(deps: { db: Db; config: Config; signer: JwtSigner; logger: Logger; limits: LimitStore }): Services {
  const { db, config, signer, logger, limits } = deps;
  const audit = new AuditLog(db, logger, { ...config.audit, dialect: config.database.dialect });
  const users = new UserService(db, audit);
  const clients = new ClientService(db, audit);
  const registration = new ClientRegistrationService(db, audit, config.dynamicRegistration);
  const tokens = new TokenService(db, signer, config, audit, new IdTokenService(signer, config.baseUrl));
  const deviceCodes = new DeviceCodeService(db, clients, tokens, audit, config);
  const sessions = new SessionService(db, config.session);
  const authorizationCodes = new AuthorizationCodeService(db, clients, tokens, audit, config);
  const consents = new ConsentService(db, audit, { remember: config.consentRemember, dialect: config.database.dialect });
  const authorizationFlow = new AuthorizationFlowService(authorizationCodes, consents, audit);
  const clientCredentials = new ClientCredentialsService(clients, tokens);
  const revocation = new RevocationService(db, audit, config.database.dialect);
  const introspection = new IntrospectionService(db, tokens, config, audit);
  const userInfo = new UserInfoService(tokens);
  // One password-guessing policy for signing in and for proving the current password.
  const passwordGuessing = new AttemptPolicy(attemptLimiters(limits, 'login'), audit, 'LOGIN_LOCKED_OUT');
  const signIn = new SignInService(users, audit, passwordGuessing);
  const userCodeEntry = new UserCodeEntryService(deviceCodes, new AttemptPolicy(attemptLimiters(limits, 'user_code'), audit, 'USER_CODE_LOCKED_OUT'));
  const userAdmin = new UserAdminService(db, audit, revocation, config.database.dialect);
  const clientAdmin = new ClientAdminService(db, audit, config.database.dialect);
  const tokenAdmin = new TokenAdminService(db, audit, revocation);
  const auditQuery = new AuditQueryService(db);
  const account = new AccountService(db, audit, passwordGuessing);
  const stats = new StatsService(db, config.database.dialect);
  const externalSignIn = new ExternalSignInService(db, audit, createIdentityProviders(config.externalSignIn, config.production), {
    autoRegister: config.externalSignIn.autoRegister,
    dialect: config.database.dialect,
  }, logger);
  return {
    audit, users, clients, registration, tokens, deviceCodes, authorizationCodes, authorizationFlow, consents, clientCredentials,
    sessions, revocation, introspection, userInfo, signIn, userCodeEntry, userAdmin, clientAdmin, tokenAdmin, auditQuery,
    account, stats, externalSignIn,
  };
}
