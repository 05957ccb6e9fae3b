// Administering users: create, edit, disable and enable, reset passwords, change roles, delete. Each
// change is one transaction together with its audit event. The rules that keep the server
// administrable live here: nobody disables or deletes themself, and the last active administrator
// can be neither disabled, demoted nor deleted.
import type { Db, Prisma, User } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { BadInput, Conflict, NotFound } from '../domain/errors.js';
import type { PasswordHasher } from '../identity/password-hasher.js';
import type { Caches } from '../ops/cache.js';
import type { Role } from '../generated/sqlite/enums.js';
import type { Metrics } from '../ops/metrics.js';
import type { AuditEntry, AuditLog } from './audit.js';
import { randomPassword } from './bootstrap.js';
import type { RequestInfo } from './request-context.js';
import type { Actor, RevocationService } from './revocation.js';
import { revokeTokensWhere } from './tokens.js';
import type { SessionService } from './sessions.js';

type Tx = Prisma.TransactionClient;

/** Who asks: the audit actor plus whether they hold admin rights in this request. */
export interface AdminActor extends Actor {
  isAdmin: boolean;
}

export interface UserFilter {
  search?: string | null;
  role?: Role | null;
  active?: boolean | null;
  authSource?: string | null;
}

export interface NewUser {
  username: string;
  email?: string | null;
  fullName?: string | null;
  role?: Role | null;
  /** Left out: a password is generated and returned once. */
  password?: string | null;
}

export interface UserChanges {
  username?: string | null;
  email?: string | null;
  fullName?: string | null;
  emailVerified?: boolean | null;
}

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 128; // bcrypt reads only 72 bytes; longer input is a mistake or an attack on CPU
const GENERATED_PASSWORD_LENGTH = 16;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
// Deliberately loose: one @, something on each side, no spaces. Deliverability is not ours to judge.
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const MAX_NAME_LENGTH = 200;

export class UserAdminService {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly revocation: RevocationService,
    private readonly dialect: 'sqlite' | 'postgresql',
    private readonly metrics: Metrics,
    private readonly caches: Caches,
    private readonly sessions: SessionService,
    private readonly passwords: PasswordHasher,
  ) {}

  /** The Prisma filter for an admin's user search. */
  where(filter: UserFilter): Prisma.UserWhereInput {
    const where: Prisma.UserWhereInput = {};
    const search = filter.search?.trim();
    if (search) {
      // SQLite's LIKE already ignores ASCII case and Prisma has no `mode` there; PostgreSQL needs ILIKE.
      const contains = this.dialect === 'postgresql' ? { contains: search, mode: 'insensitive' as const } : { contains: search };
      where.OR = [{ username: contains }, { email: contains }, { fullName: contains }];
    }
    if (filter.role) where.role = filter.role;
    if (filter.active != null) where.active = filter.active;
    if (filter.authSource) where.authSource = filter.authSource;
    return where;
  }

  /**
   * A user as the viewer may see them: administrators see anyone, others only themselves. Another
   * user's id and an unknown id give the same NotFound, so ids cannot be probed.
   */
  async findVisible<Q extends { select?: unknown; include?: unknown }>(viewer: AdminActor, id: string, query?: Q): Promise<User> {
    if (!viewer.isAdmin && viewer.userId !== id) throw new NotFound('no user with this id');
    const user = await this.db.user.findUnique({ ...(query as object), where: { id } });
    if (!user) throw new NotFound('no user with this id');
    return user;
  }

  async create(input: NewUser, actor: AdminActor, req: RequestInfo): Promise<{ user: User; generatedPassword?: string }> {
    const username = checkUsername(input.username);
    const email = checkEmail(input.email);
    const fullName = checkName(input.fullName ?? '');
    const generatedPassword = input.password == null ? randomPassword(GENERATED_PASSWORD_LENGTH) : undefined;
    const passwordHash = await this.passwords.hash(checkPassword(input.password ?? generatedPassword!));
    const role = input.role ?? 'user';
    const user = await this.write({}, async (tx) => {
      const created = await tx.user.create({ data: { username, email, fullName, role, passwordHash, authSource: 'local' } });
      await this.audit.recordIn(tx, {
        ...entry('USER_CREATED', actor, created, req),
        severity: role === 'admin' ? 'WARNING' : 'INFO',
        details: { username, email, role, generated_credential: generatedPassword !== undefined },
      });
      return created;
    });
    return { user, generatedPassword };
  }

  async update(id: string, changes: UserChanges, actor: AdminActor, req: RequestInfo): Promise<User> {
    const data: Prisma.UserUpdateInput = {};
    if (changes.username != null) data.username = checkUsername(changes.username);
    // An empty string clears the email; null means "leave as is".
    if (changes.email != null) data.email = changes.email.trim() === '' ? null : checkEmail(changes.email);
    if (changes.fullName != null) data.fullName = checkName(changes.fullName);
    if (changes.emailVerified != null) data.emailVerified = changes.emailVerified;
    return this.write({ userId: id }, async (tx) => {
      const before = await findOrThrow(tx, id);
      const after = await tx.user.update({ where: { id }, data });
      const diff = changedFields(before, after, ['username', 'email', 'fullName', 'emailVerified']);
      await this.audit.recordIn(tx, { ...entry('USER_UPDATED', actor, after, req), details: diff });
      return after;
    });
  }

  /**
   * Disables a user: their browser sessions end and every token they hold is revoked for good, so
   * enabling them later brings nothing back. The flag, the sessions and the tokens change in one
   * transaction; RevocationService.revokeAllForUser then sweeps, after the commit, whatever a grant in
   * flight issued meanwhile (and whatever else the core ties to a user, such as outstanding codes).
   */
  async disable(id: string, actor: AdminActor, req: RequestInfo): Promise<{ user: User; tokensRevoked: number; sessionsEnded: number }> {
    if (actor.userId === id) throw new Conflict('You cannot disable your own account.');
    const { result, sessionsEnded } = await this.sessions.endForUserWith(
      (fn) => this.write({ userId: id, tokens: true }, fn),
      id,
      {},
      async (tx) => {
        await lockActiveAdmins(tx, this.dialect);
        const before = await findOrThrow(tx, id);
        const user = await tx.user.update({ where: { id }, data: { active: false } });
        await requireAnActiveAdmin(tx, 'disable');
        const revoked = await revokeTokensWhere(tx, { userId: id });
        return { before, user, revoked };
      },
      {
        log: this.audit,
        entry: ({ before, user, revoked }, count) => ({
          ...entry('USER_DISABLED', actor, user, req),
          severity: 'WARNING',
          details: { username: user.username, was_active: before.active, sessions_ended: count, revoked_count: revoked },
        }),
      },
      this.db,
    );
    const disabled = { user: result.user, revoked: result.revoked, sessionsEnded };
    const swept = await this.revocation.revokeAllForUser(id, actor, req);
    this.metrics.tokensRevokedFor('admin', disabled.revoked);
    if (disabled.sessionsEnded > 0) this.metrics.sessionsInvalidated.inc({ reason: 'admin' }, disabled.sessionsEnded);
    return { user: disabled.user, tokensRevoked: disabled.revoked + swept.tokensRevoked, sessionsEnded: disabled.sessionsEnded };
  }

  /** Lets a disabled user sign in again. Their old tokens stay revoked. */
  async enable(id: string, actor: AdminActor, req: RequestInfo): Promise<User> {
    return this.write({ userId: id }, async (tx) => {
      const before = await findOrThrow(tx, id);
      const user = await tx.user.update({ where: { id }, data: { active: true } });
      await this.audit.recordIn(tx, { ...entry('USER_ENABLED', actor, user, req), details: { username: user.username, was_active: before.active } });
      return user;
    });
  }

  /**
   * Sets a new password for a local user (generated unless given) and ends their sessions, since a
   * reset usually means the old password is not to be trusted. The password is returned once.
   */
  async resetPassword(id: string, password: string | null | undefined, actor: AdminActor, req: RequestInfo): Promise<{ user: User; password: string }> {
    const next = password ?? randomPassword(GENERATED_PASSWORD_LENGTH);
    const passwordHash = await this.passwords.hash(checkPassword(next));
    const { result: user, sessionsEnded } = await this.sessions.endForUserWith(
      (fn) => this.write({ userId: id }, fn),
      id,
      {},
      async (tx) => {
        const before = await findOrThrow(tx, id);
        if (before.authSource !== 'local') throw new BadInput(`This user signs in through "${before.authSource}"; their password is not kept here.`);
        return tx.user.update({ where: { id }, data: { passwordHash } });
      },
      {
        log: this.audit,
        entry: (changed, count) => ({
          ...entry('USER_PASSWORD_RESET', actor, changed, req),
          severity: 'WARNING',
          details: { username: changed.username, generated_credential: password == null, sessions_ended: count },
        }),
      },
      this.db,
    );
    const reset = { user, sessionsEnded };
    if (reset.sessionsEnded > 0) this.metrics.sessionsInvalidated.inc({ reason: 'admin' }, reset.sessionsEnded);
    return { user: reset.user, password: next };
  }

  async setRole(id: string, role: Role, actor: AdminActor, req: RequestInfo): Promise<User> {
    return this.write({ userId: id }, async (tx) => {
      await lockActiveAdmins(tx, this.dialect);
      const before = await findOrThrow(tx, id);
      const user = await tx.user.update({ where: { id }, data: { role } });
      if (before.role === 'admin' && role !== 'admin') await requireAnActiveAdmin(tx, 'demote');
      await this.audit.recordIn(tx, {
        ...entry('USER_ROLE_CHANGED', actor, user, req),
        severity: 'WARNING',
        details: { username: user.username, before: before.role, after: role },
      });
      return user;
    });
  }

  /** Deletes a user and, by cascade, their tokens, sessions, consents and connections. */
  async delete(id: string, actor: AdminActor, req: RequestInfo): Promise<User> {
    if (actor.userId === id) throw new Conflict('You cannot delete your own account.');
    // The cascade deletes the user's tokens too (and their sessions in the database store; in Redis
    // they are ended right after).
    const deleted = await this.write({ userId: id, tokens: true }, async (tx) => {
      await lockActiveAdmins(tx, this.dialect);
      const user = await findOrThrow(tx, id);
      await tx.user.delete({ where: { id } });
      await requireAnActiveAdmin(tx, 'delete');
      await this.audit.recordIn(tx, {
        ...entry('USER_DELETED', actor, user, req),
        severity: 'WARNING',
        details: { username: user.username, email: user.email, role: user.role },
      });
      return user;
    });
    if (this.sessions.store.kind !== 'database') await this.sessions.store.endForUser(id);
    return deleted;
  }

  /** Removes a sign-in link to an external provider; administrators for anyone, users for themselves. */
  async unlinkConnection(connectionId: string, actor: AdminActor, req: RequestInfo): Promise<{ userId: string; provider: string }> {
    return this.write({}, async (tx) => {
      const connection = await tx.oAuthConnection.findUnique({ where: { id: connectionId }, include: { user: true } });
      if (!connection || (!actor.isAdmin && connection.userId !== actor.userId)) throw new NotFound('no connection with this id');
      await tx.oAuthConnection.delete({ where: { id: connectionId } });
      await this.audit.recordIn(tx, {
        ...entry('CONNECTION_UNLINKED', actor, connection.user, req),
        details: { username: connection.user.username, provider: connection.provider, connection_id: connection.id },
      });
      return { userId: connection.userId, provider: connection.provider };
    });
  }

  /**
   * One transaction; a duplicate username or email becomes Conflict. Once it has committed, the cached
   * copies of what it changed are invalidated (`userId`; `tokens`: token status), before this returns.
   */
  private async write<T>(changes: { userId?: string; tokens?: boolean }, fn: (tx: Tx) => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await this.db.$transaction(fn);
    } catch (err) {
      if (isUniqueViolation(err)) throw new Conflict('A user with this username or email already exists.');
      throw err;
    }
    if (changes.userId) await this.caches.userChanged(changes.userId);
    if (changes.tokens) await this.caches.tokensChanged();
    return result;
  }
}

function entry(eventType: string, actor: Actor, user: Pick<User, 'id'>, req: RequestInfo): AuditEntry {
  return { eventType, actor: { userId: actor.userId, username: actor.username }, subject: { type: 'user', id: user.id }, request: req };
}

async function findOrThrow(tx: Tx, id: string): Promise<User> {
  const user = await tx.user.findUnique({ where: { id } });
  if (!user) throw new NotFound('no user with this id');
  return user;
}

/**
 * PostgreSQL: locks the active administrators' rows for the rest of the transaction, so two admins
 * demoting or disabling each other at once are serialised and the second sees the first's change.
 * SQLite allows one writer at a time, so its transactions are serialised already.
 */
async function lockActiveAdmins(tx: Tx, dialect: 'sqlite' | 'postgresql'): Promise<void> {
  if (dialect === 'postgresql') await tx.$queryRaw`SELECT "id" FROM "users" WHERE "role" = 'admin' AND "active" = true FOR UPDATE`;
}

async function requireAnActiveAdmin(tx: Tx, action: string): Promise<void> {
  if ((await tx.user.count({ where: { role: 'admin', active: true } })) === 0) {
    throw new Conflict(`You cannot ${action} the last active administrator.`);
  }
}

function changedFields<T extends object>(before: T, after: T, keys: (keyof T & string)[]): Record<string, unknown> {
  const diff: Record<string, unknown> = {};
  for (const key of keys) if (before[key] !== after[key]) diff[key] = { before: before[key], after: after[key] };
  return diff;
}

function checkUsername(value: string): string {
  const username = value.trim();
  if (!USERNAME.test(username)) throw new BadInput('A username is 1 to 64 letters, digits or . _ @ - and starts with a letter or digit.', 'username');
  return username;
}

function checkEmail(value: string | null | undefined): string | null {
  if (value == null || value.trim() === '') return null;
  const email = value.trim();
  if (email.length > 254 || !EMAIL.test(email)) throw new BadInput(`"${email.slice(0, 100)}" is not an email address.`, 'email');
  return email;
}

function checkName(value: string): string {
  const name = value.trim();
  if (name.length > MAX_NAME_LENGTH) throw new BadInput(`A full name is at most ${MAX_NAME_LENGTH} characters.`, 'fullName');
  if (/\p{Cc}/u.test(name)) throw new BadInput('A full name must not contain control characters.', 'fullName');
  return name;
}

export function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new BadInput(`A password is ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters.`, 'password');
  }
  return password;
}
