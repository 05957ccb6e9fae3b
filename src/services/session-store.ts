// Where browser sessions are kept: the `sessions` table (default) or Redis (SESSION_STORE=redis, one
// copy shared by every instance). Both are keyed by the SHA-256 of the cookie's id (`id` below is
// always that hash), so reading the store does not yield a usable session. SessionService decides
// (expiry, metrics); the stores only store, list and delete.
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.js';

/** What is known about a session besides its data: what the account and admin pages list. */
export interface SessionMeta {
  id: string;
  userId: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Idle expiry, never later than `absoluteExpiresAt`. */
  expiresAt: Date;
  absoluteExpiresAt: Date;
}

export interface StoredSession extends SessionMeta {
  data: string;
}

export interface SessionWrite {
  data: string;
  userId: string | null;
  expiresAt: Date;
  /** Used when the session is created; an existing session keeps its own. */
  absoluteExpiresAt: Date;
  ipAddress: string | null;
  userAgent: string | null;
  /** The session was loaded by the request now saving it: update only, never re-create an ended one. */
  existing: boolean;
}

export interface SessionStore {
  readonly kind: 'database' | 'redis';
  get(id: string): Promise<StoredSession | null>;
  set(id: string, session: SessionWrite): Promise<void>;
  /** True when there was a session to end. */
  destroy(id: string): Promise<boolean>;
  /** The user's sessions that have not ended, most recently used first. */
  listForUser(userId: string, now?: Date): Promise<SessionMeta[]>;
  /** Ends every session of the user (but `except`); returns how many ended. */
  endForUser(userId: string, opts?: { except?: string }): Promise<number>;
  /** Ends one signed-in session (only if it belongs to `ownerId`, when given). */
  endOne(id: string, ownerId?: string): Promise<boolean>;
  /** Signed-in sessions that have not ended (the sessions_active gauge). */
  countActive(now?: Date): Promise<number>;
}

export function isLive(session: Pick<SessionMeta, 'expiresAt' | 'absoluteExpiresAt'>, now = new Date()): boolean {
  return session.expiresAt > now && session.absoluteExpiresAt > now;
}

/** Most recently used first; the id keeps the order total. */
export function byRecentUse(a: SessionMeta, b: SessionMeta): number {
  return b.updatedAt.getTime() - a.updatedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export class DatabaseSessionStore implements SessionStore {
  readonly kind = 'database' as const;
  constructor(private readonly db: Db) {}

  get(id: string): Promise<StoredSession | null> {
    return this.db.session.findUnique({ where: { id } });
  }

  async set(id: string, s: SessionWrite): Promise<void> {
    const fields = { userId: s.userId, data: s.data, expiresAt: s.expiresAt };
    // An ended session (deleted while this request ran) is not brought back by the request's save.
    if (s.existing) {
      await this.db.session.updateMany({ where: { id }, data: fields });
      return;
    }
    await this.db.session.upsert({
      where: { id },
      create: { id, ...fields, absoluteExpiresAt: s.absoluteExpiresAt, ipAddress: s.ipAddress, userAgent: s.userAgent },
      update: fields,
    });
  }

  async destroy(id: string): Promise<boolean> {
    return (await this.db.session.deleteMany({ where: { id } })).count === 1;
  }

  listForUser(userId: string, now = new Date()): Promise<SessionMeta[]> {
    return this.db.session.findMany({
      where: { userId, expiresAt: { gt: now }, absoluteExpiresAt: { gt: now } },
      omit: { data: true },
      orderBy: [{ updatedAt: 'desc' }, { id: 'asc' }],
    });
  }

  async endForUser(userId: string, opts: { except?: string } = {}): Promise<number> {
    return (await this.db.session.deleteMany({ where: { userId, ...(opts.except ? { id: { not: opts.except } } : {}) } })).count;
  }

  async endOne(id: string, ownerId?: string): Promise<boolean> {
    const where = ownerId === undefined ? { id, userId: { not: null } } : { id, userId: ownerId };
    return (await this.db.session.deleteMany({ where })).count === 1;
  }

  countActive(now = new Date()): Promise<number> {
    return this.db.session.count({ where: { userId: { not: null }, expiresAt: { gt: now }, absoluteExpiresAt: { gt: now } } });
  }
}

// Each session is a hash `<prefix>session:<id>` that expires (PEXPIREAT) at its idle or absolute
// expiry, whichever is first; a signed-in user's sessions are indexed in the sorted set
// `<prefix>user-sessions:<userId>` (scored by expiry, pruned on read). An ended session leaves a
// marker `<prefix>session-ended:<id>` for the longest a session can live, so a request that was in
// flight when the session was ended cannot write it back.
const SET_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local old = redis.call('HGET', KEYS[1], 'userId')
local abs = redis.call('HGET', KEYS[1], 'absoluteExpiresAt')
if not abs then
  abs = ARGV[7]
  redis.call('HMSET', KEYS[1], 'createdAt', ARGV[5], 'absoluteExpiresAt', abs, 'ipAddress', ARGV[8], 'userAgent', ARGV[9])
end
local exp = math.min(tonumber(ARGV[6]), tonumber(abs))
if old and old ~= '' and old ~= ARGV[4] then redis.call('ZREM', ARGV[1] .. 'user-sessions:' .. old, ARGV[2]) end
if exp <= tonumber(ARGV[5]) then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('HMSET', KEYS[1], 'data', ARGV[3], 'userId', ARGV[4], 'updatedAt', ARGV[5], 'expiresAt', tostring(exp))
redis.call('PEXPIREAT', KEYS[1], exp)
if ARGV[4] ~= '' then
  local idx = ARGV[1] .. 'user-sessions:' .. ARGV[4]
  redis.call('ZADD', idx, exp, ARGV[2])
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', idx, tonumber(top[2]))
end
return 1
`;

// Ends sessions: ARGV[1] prefix, ARGV[2] owner to require ('' = any signed-in user, '*' = any session), ARGV[3] marker
// lifetime (ms), ARGV[4..] ids. Returns how many ended.
const END_SCRIPT = `
local n = 0
for i = 4, #ARGV do
  local key = ARGV[1] .. 'session:' .. ARGV[i]
  local owner = redis.call('HGET', key, 'userId')
  if owner and (ARGV[2] == '*' or owner == ARGV[2] or (ARGV[2] == '' and owner ~= '')) then
    redis.call('DEL', key)
    redis.call('SET', ARGV[1] .. 'session-ended:' .. ARGV[i], '1', 'PX', ARGV[3])
    if owner ~= '' then
      redis.call('ZREM', ARGV[1] .. 'user-sessions:' .. owner, ARGV[i])
      n = n + 1
    end
  end
end
return n
`;

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    /** The longest a session can live (ms): how long an ended session's marker is kept. */
    private readonly maxAgeMs: number,
  ) {}

  private key(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private index(userId: string): string {
    return `${this.prefix}user-sessions:${userId}`;
  }

  async get(id: string): Promise<StoredSession | null> {
    return parse(id, await this.redis.hgetall(this.key(id)));
  }

  async set(id: string, s: SessionWrite): Promise<void> {
    await this.redis.eval(
      SET_SCRIPT,
      2,
      this.key(id),
      `${this.prefix}session-ended:${id}`,
      this.prefix,
      id,
      s.data,
      s.userId ?? '',
      String(Date.now()),
      String(s.expiresAt.getTime()),
      String(s.absoluteExpiresAt.getTime()),
      s.ipAddress ?? '',
      s.userAgent ?? '',
    );
  }

  async destroy(id: string): Promise<boolean> {
    // Anonymous sessions too (they are not counted in the result of `end`).
    const [owner] = await this.redis.hmget(this.key(id), 'userId');
    if (owner == null) return false;
    await this.end('*', [id]);
    return true;
  }

  async listForUser(userId: string, now = new Date()): Promise<SessionMeta[]> {
    const index = this.index(userId);
    await this.redis.zremrangebyscore(index, '-inf', now.getTime());
    const ids = await this.redis.zrange(index, 0, -1);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.key(id));
    const results = (await pipeline.exec()) ?? [];
    const sessions: SessionMeta[] = [];
    results.forEach(([err, fields], i) => {
      if (err) throw err;
      const session = parse(ids[i]!, fields as Record<string, string>);
      if (session && session.userId === userId && isLive(session, now)) sessions.push(withoutData(session));
    });
    return sessions.sort(byRecentUse);
  }

  async endForUser(userId: string, opts: { except?: string } = {}): Promise<number> {
    const ids = (await this.redis.zrange(this.index(userId), 0, -1)).filter((id) => id !== opts.except);
    return ids.length === 0 ? 0 : this.end(userId, ids);
  }

  async endOne(id: string, ownerId?: string): Promise<boolean> {
    return (await this.end(ownerId ?? '', [id])) === 1;
  }

  async countActive(now = new Date()): Promise<number> {
    let total = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}user-sessions:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) total += await this.redis.zcount(key, `(${now.getTime()}`, '+inf');
    } while (cursor !== '0');
    return total;
  }

  private async end(owner: string, ids: string[]): Promise<number> {
    return Number(await this.redis.eval(END_SCRIPT, 0, this.prefix, owner, String(this.maxAgeMs), ...ids));
  }
}

function parse(id: string, h: Record<string, string>): StoredSession | null {
  if (!h || h.data === undefined || h.expiresAt === undefined) return null;
  return {
    id,
    data: h.data,
    userId: h.userId || null,
    ipAddress: h.ipAddress || null,
    userAgent: h.userAgent || null,
    createdAt: new Date(Number(h.createdAt)),
    updatedAt: new Date(Number(h.updatedAt)),
    expiresAt: new Date(Number(h.expiresAt)),
    absoluteExpiresAt: new Date(Number(h.absoluteExpiresAt)),
  };
}

function withoutData({ data: _data, ...meta }: StoredSession): SessionMeta {
  return meta;
}
