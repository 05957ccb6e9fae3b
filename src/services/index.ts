// The core, assembled once: every face receives the same services.
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import type { JwtSigner } from '../keys/jwt.js';
import type { Logger } from '../ops/logger.js';
import { AuditLog } from './audit.js';
import { ClientService } from './clients.js';
import { DeviceCodeService } from './device-codes.js';
import { SessionService } from './sessions.js';
import { TokenService } from './tokens.js';
import { UserService } from './users.js';

export interface Services {
  audit: AuditLog;
  users: UserService;
  clients: ClientService;
  tokens: TokenService;
  deviceCodes: DeviceCodeService;
  sessions: SessionService;
}

export function createServices(deps: { db: Db; config: Config; signer: JwtSigner; logger: Logger }): Services {
  const { db, config, signer, logger } = deps;
  const audit = new AuditLog(db, logger, config.audit);
  const users = new UserService(db, audit);
  const clients = new ClientService(db, audit);
  const tokens = new TokenService(db, signer, config, audit);
  const deviceCodes = new DeviceCodeService(db, clients, tokens, audit, config);
  const sessions = new SessionService(db, config.session);
  return { audit, users, clients, tokens, deviceCodes, sessions };
}
