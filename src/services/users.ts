import bcrypt from 'bcryptjs';
import type { Db, User } from '../db/client.js';
import { InvalidCredentials } from '../domain/errors.js';
import type { Caches } from '../ops/cache.js';
import type { AuditLog } from './audit.js';
import type { RequestInfo } from './request-context.js';

// bcryptjs is pure JavaScript; cost 10 keeps a login near 100 ms on these machines.
const BCRYPT_COST = 10;
// Compared against when the user does not exist, so a miss costs as much time as a wrong password
// and response timing does not reveal which usernames exist.
const DUMMY_HASH = bcrypt.hashSync('authgate-timing-equaliser', BCRYPT_COST);

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, BCRYPT_COST);
}

export class UserService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly caches: Caches,
  ) {}

  /**
   * Checks a local password. Every failure is the same InvalidCredentials, whatever the cause.
   * Costs a bcrypt comparison: reach it through SignInService, which limits guessing first.
   */
  async authenticate(username: string, password: string, req: RequestInfo): Promise<User> {
    const user = await this.db.user.findUnique({ where: { username } });
    const ok = await bcrypt.compare(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok || !user.active || !user.passwordHash) {
      this.audit.record({
        eventType: 'AUTHENTICATION_FAILURE',
        severity: 'WARNING',
        success: false,
        actor: { userId: user?.id, username },
        request: req,
        details: { reason: !user ? 'unknown_user' : !user.active ? 'user_disabled' : 'bad_password' },
      });
      throw new InvalidCredentials();
    }
    await this.db.user.update({ where: { id: user.id }, data: { lastLoginAt: new Date() } });
    await this.caches.userChanged(user.id);
    this.audit.record({ eventType: 'AUTHENTICATION_SUCCESS', actor: { userId: user.id, username: user.username }, request: req });
    return user;
  }

  /**
   * The user behind a session or token, or null when missing or disabled. Read through the user cache
   * (invalidated by every user write), so the password hash is not in what it returns.
   */
  async findActive(id: string): Promise<User | null> {
    const user = await this.find(id);
    return user?.active ? user : null;
  }

  /** Read through the user cache, active or not (password hash withheld). */
  find(id: string): Promise<User | null> {
    return this.caches.user(id, () => this.db.user.findUnique({ where: { id } }));
  }
}
