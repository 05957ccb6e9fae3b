// Read-through caches for the rows read on every request: clients (client authentication), users
// (the session's user, each page request) and token status (tokeninfo, introspection, userinfo,
// GraphQL bearer tokens). AuthGate's CLIENT_CACHE_*, USER_CACHE_* and TOKEN_CACHE_* choose a backend:
//   memory       a copy in this process;
//   redis        one copy in Redis, shared by every instance;
//   redis-aside  a copy in this process for *_CLIENT_TTL in front of the Redis copy;
//   none         (this server only) no cache: every read goes to the database.
//
// Correctness before hit rate ("revoked means dead"):
// - Every service write that changes a cached row invalidates it after its transaction commits (and
//   before the write returns). A fill that was already reading the database when the invalidation
//   happened must not store what it read: in this process a per-cache epoch is bumped by every
//   invalidation and a fill stores only when the epoch is unchanged; in Redis every value is tagged with
//   the generation of its key and of its cache at the time of the read, and a value whose tags differ
//   from the current generations is a miss (an invalidation writes a new generation; nothing has to
//   win a race against a late fill).
// - Whenever Redis is configured, every invalidation is also published (pub/sub), whatever the cache
//   type, and the write returns once every instance that received it has confirmed dropping its local
//   copies (or after CACHE_INVALIDATION_TIMEOUT, logged and counted). While this instance's
//   subscription is down it may miss messages: its local copies are then not used at all, and are
//   dropped when the subscription is back.
// - Nothing secret is cached in clear: password hashes are replaced by a marker before caching, and
//   refresh-token successors are never cached. A client's secret hash stays: it is the SHA-256 of a
//   256-bit random secret (as in the database), and authentication compares against it.
// - A cache that fails (Redis down) is skipped: the database answers.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DeviceCode, OAuthClient, Token, User } from '../db/client.js';
import type { Logger } from './logger.js';
import { throttledLog } from './log-throttle.js';
import type { CacheName, Metrics } from './metrics.js';

export type { CacheName };
export type CacheType = 'memory' | 'redis' | 'redis-aside' | 'none';

export interface CacheSettings {
  type: CacheType;
  /** Lifetime of a cached entry (memory, and the Redis copy), ms. */
  ttlMs: number;
  /** redis-aside: lifetime of the local copy, ms. */
  clientTtlMs: number;
  /** Bound of the local copy, bytes (AuthGate's *_CACHE_SIZE_PER_CONN in MB). */
  maxBytes: number;
}

/** How a cached row is written and read back: JSON, with its date fields revived. */
export interface Codec<T> {
  encode(value: T): string;
  decode(text: string): T;
}

export function rowCodec<T>(dateFields: readonly string[], redact: (row: T) => T = (row) => row): Codec<T> {
  const dates = new Set(dateFields);
  return {
    encode: (value) => JSON.stringify(redact(value)),
    decode: (text) => JSON.parse(text, (key, v: unknown) => (dates.has(key) && typeof v === 'string' ? new Date(v) : v)) as T,
  };
}

/**
 * In-process copy: least recently used entries leave first once `maxBytes` is reached. It keeps the
 * decoded row, measured by the length of its encoded text: a hit hands out that one frozen object
 * instead of parsing the JSON again, which was most of the cost of a hit on the token endpoints.
 *
 * The Map's order is the use order (oldest first). A hit moves its entry to the end only when the
 * entry has drifted into the older half of that order, judged by how many entries were placed at the
 * end since it was: a hot entry read thousands of times a second is then moved about once per
 * half-cache of new entries instead of being deleted and re-inserted on every read (a hash of its
 * key and two Map writes, four times an introspection). What a read guarantees is unchanged in
 * substance: after it, the entry is in the newer half, so every entry not read since then leaves first.
 */
class LocalLayer<T> {
  private readonly entries = new Map<string, { size: number; value: Readonly<T>; expiresAt: number; placed: number }>();
  private bytes = 0;
  /** Entries placed at the end so far (stored or moved): an entry's distance from the end is at most placements − its `placed`. */
  private placements = 0;
  constructor(
    private readonly ttlMs: number,
    private readonly maxBytes: number,
  ) {}

  get(key: string): Readonly<T> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      this.bytes -= entry.size;
      return undefined;
    }
    if (this.placements - entry.placed > this.entries.size / 2) {
      // most recently used last
      this.entries.delete(key);
      entry.placed = this.placements++;
      this.entries.set(key, entry);
    }
    return entry.value;
  }

  set(key: string, text: string, value: T): void {
    this.delete(key);
    const size = text.length + key.length;
    this.entries.set(key, { size, value: Object.freeze(value), expiresAt: Date.now() + this.ttlMs, placed: this.placements++ });
    this.bytes += size;
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= entry.size;
    }
  }
  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.size;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** The shared copy in Redis, each value tagged with the generations it was read under. */
class RedisLayer {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  private keys(key: string) {
    return { all: `${this.prefix}gen`, one: `${this.prefix}gen:${key}`, value: `${this.prefix}v:${key}` };
  }

  /** The value if it is current, and the tag a fill must carry. */
  async read(key: string): Promise<{ text?: string; tag: string }> {
    const k = this.keys(key);
    const [all, one, value] = await this.redis.mget(k.all, k.one, k.value);
    const tag = `${all ?? '0'}.${one ?? '0'}|`;
    return { text: value?.startsWith(tag) ? value.slice(tag.length) : undefined, tag };
  }

  async write(key: string, tag: string, text: string): Promise<void> {
    await this.redis.set(this.keys(key).value, tag + text, 'PX', this.ttlMs);
  }

  /**
   * New generations make every value read before them a miss. A generation outlives every value
   * tagged before it (values live ttl; a fill takes far less than the margin), so when it expires no
   * old value can match the absent generation again.
   */
  async invalidate(keys: string[] | 'all'): Promise<void> {
    const life = 2 * this.ttlMs + 60_000;
    const pipeline = this.redis.multi();
    if (keys === 'all') pipeline.set(this.keys('').all, randomUUID(), 'PX', life);
    else for (const key of keys) pipeline.set(this.keys(key).one, randomUUID(), 'PX', life).del(this.keys(key).value);
    // A transaction reports per-command failures in its results rather than rejecting: those count too.
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('the invalidation transaction was discarded');
  }
}

interface Message {
  origin: string;
  /** Names this publication in the receivers' confirmations (absent from versions that sent none). */
  id?: string;
  cache: CacheName;
  keys: string[] | 'all';
}

/**
 * Carries invalidations between instances (Redis pub/sub). `live` is false while the subscription is
 * not established: messages may be missed then, so local copies must not be trusted.
 *
 * Every receiver confirms a publication once it has dropped its copies, and `publish` waits for as
 * many confirmations as Redis counted receivers (PUBLISH answers that count), for at most
 * `confirmWithinMs`: when a revocation returns, no instance still answers from a copy from before it.
 * Without this wait an instance that read its socket a moment before Redis's message arrived could
 * still accept the token it was told about (the multi-instance test caught it). Confirmations travel
 * on a channel of the publisher's own (`<channel>:confirm:<origin>`); a receiver that is our own
 * subscription confirms in process.
 */
export class InvalidationBus {
  readonly origin = randomUUID();
  private readonly listeners = new Map<CacheName, (keys: string[] | 'all') => void>();
  private subscribed = false;
  private readonly confirmations: string;
  private readonly waiting = new Map<string, { confirmed: number; receivers?: number; done: () => void }>();

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly confirmWithinMs = 1000,
  ) {
    this.confirmations = `${channel}:confirm:${this.origin}`;
    subscriber.on('message', (channel: string, raw: string) => {
      if (channel === this.confirmations) return this.confirmed(raw);
      if (channel !== this.channel) return;
      let message: Message;
      try {
        message = JSON.parse(raw) as Message;
      } catch {
        return;
      }
      if (message.origin === this.origin) {
        // Applied locally already (before publishing); our subscription is one of the receivers.
        if (message.id) this.confirmed(message.id);
        return;
      }
      this.listeners.get(message.cache)?.(message.keys);
      // Lost if Redis is unreachable now: the publisher then stops waiting at its deadline.
      if (message.id) this.publisher.publish(`${this.channel}:confirm:${message.origin}`, message.id).catch(() => undefined);
    });
    // Messages sent while the connection was down are lost: drop every local copy, then trust again
    // once the subscription is back (ioredis re-subscribes on reconnect).
    subscriber.on('close', () => this.down());
    subscriber.on('ready', () => {
      if (this.subscribed) return;
      // Failing here leaves the bus down (local copies unused) until the next reconnect.
      this.subscribe().catch(() => undefined);
    });
  }

  get live(): boolean {
    return this.subscribed && this.subscriber.status === 'ready';
  }

  async subscribe(): Promise<void> {
    await this.subscriber.subscribe(this.channel, this.confirmations);
    for (const listener of this.listeners.values()) listener('all');
    this.subscribed = true;
  }

  private down(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    for (const listener of this.listeners.values()) listener('all');
  }

  on(cache: CacheName, listener: (keys: string[] | 'all') => void): void {
    this.listeners.set(cache, listener);
  }

  private confirmed(id: string): void {
    const wait = this.waiting.get(id);
    if (!wait) return;
    wait.confirmed++;
    if (wait.receivers !== undefined && wait.confirmed >= wait.receivers) wait.done();
  }

  /**
   * Publishes and waits until every receiver has confirmed, or `confirmWithinMs` passed. Resolves to
   * the number of receivers that did not confirm in time (0 when all did); throws when Redis did not
   * take the message.
   */
  async publish(cache: CacheName, keys: string[] | 'all'): Promise<number> {
    // CACHE_INVALIDATION_TIMEOUT=0: nothing waits, so the message carries no id and no receiver confirms.
    if (this.confirmWithinMs === 0) {
      await this.publisher.publish(this.channel, JSON.stringify({ origin: this.origin, cache, keys } satisfies Message));
      return 0;
    }
    const id = randomUUID();
    let done!: () => void;
    const allConfirmed = new Promise<void>((resolve) => (done = resolve));
    // Registered before publishing: a confirmation can arrive (on the subscriber's connection) before
    // PUBLISH's answer does (on the publisher's).
    const wait: { confirmed: number; receivers?: number; done: () => void } = { confirmed: 0, done };
    this.waiting.set(id, wait);
    let timer: NodeJS.Timeout | undefined;
    try {
      const receivers = await this.publisher.publish(this.channel, JSON.stringify({ origin: this.origin, id, cache, keys } satisfies Message));
      wait.receivers = receivers;
      // Without our subscription no confirmation can reach us: report the others as unconfirmed.
      if (wait.confirmed < receivers && this.live) {
        await Promise.race([allConfirmed, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.confirmWithinMs).unref()))]);
      }
      return Math.max(0, receivers - wait.confirmed);
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }
}

export class Cache<T> {
  private readonly local?: LocalLayer<T>;
  private readonly shared?: RedisLayer;
  /** Bumped by every invalidation seen here: a fill that started before it does not store. */
  private epoch = 0;
  private readonly errors: ReturnType<typeof throttledLog>;

  constructor(
    readonly name: CacheName,
    settings: CacheSettings,
    private readonly codec: Codec<T>,
    deps: { redis?: Redis; bus?: InvalidationBus; keyPrefix: string; logger: Logger; metrics?: Pick<Metrics, 'cacheHit' | 'cacheMiss' | 'cacheInvalidationUnconfirmed'> },
  ) {
    this.errors = throttledLog(deps.logger, 'warn', 30_000);
    this.metrics = deps.metrics;
    if (settings.type === 'memory') this.local = new LocalLayer(settings.ttlMs, settings.maxBytes);
    if (settings.type === 'redis-aside') this.local = new LocalLayer(Math.min(settings.clientTtlMs, settings.ttlMs), settings.maxBytes);
    if ((settings.type === 'redis' || settings.type === 'redis-aside') && deps.redis) {
      this.shared = new RedisLayer(deps.redis, `${deps.keyPrefix}cache:${name}:`, settings.ttlMs);
    }
    this.bus = deps.bus;
    this.bus?.on(name, (keys) => this.dropLocal(keys));
  }

  private readonly bus?: InvalidationBus;
  private readonly metrics?: Pick<Metrics, 'cacheHit' | 'cacheMiss' | 'cacheInvalidationUnconfirmed'>;

  get enabled(): boolean {
    return Boolean(this.local || this.shared) && !this.repairing;
  }

  /** Local copies are trusted only when no invalidation can have been missed. */
  private get localUsable(): boolean {
    return this.local !== undefined && (this.bus === undefined || this.bus.live);
  }

  /** The cached value of `key`, or `load()`'s (stored unless null or overtaken by an invalidation). */
  async get(key: string, load: () => Promise<T | null>): Promise<T | null> {
    if (!this.enabled) return load();
    if (this.localUsable) {
      const value = this.local!.get(key);
      if (value !== undefined) {
        this.metrics?.cacheHit(this.name);
        return value;
      }
    }
    const epoch = this.epoch;
    let tag: string | undefined;
    if (this.shared) {
      try {
        const read = await this.shared.read(key);
        tag = read.tag;
        if (read.text !== undefined) {
          this.metrics?.cacheHit(this.name);
          const value = this.codec.decode(read.text);
          if (this.localUsable && this.epoch === epoch) this.local!.set(key, read.text, value);
          return value;
        }
      } catch (err) {
        this.errors.log('cache read failed; reading the database', { cache: this.name, error: (err as Error).message });
      }
    }
    this.metrics?.cacheMiss(this.name);
    const value = await load();
    if (value === null) return null;
    const text = this.codec.encode(value);
    if (this.shared && tag !== undefined) {
      await this.shared.write(key, tag, text).catch((err: unknown) => {
        this.errors.log('cache write failed', { cache: this.name, error: (err as Error).message });
      });
    }
    // The local copy is the decoded form of what was stored (redactions applied), not the loaded row.
    if (this.localUsable && this.epoch === epoch) this.local!.set(key, text, this.codec.decode(text));
    return value;
  }

  /** After a committed change: these keys are dropped here, in Redis and on every instance. */
  invalidate(keys: string[]): Promise<void> {
    return keys.length === 0 ? Promise.resolve() : this.spread(keys);
  }

  /** After a committed change that may touch any entry (e.g. a sweep of many tokens). */
  clear(): Promise<void> {
    return this.spread('all');
  }

  private async spread(keys: string[] | 'all'): Promise<void> {
    this.dropLocal(keys);
    try {
      await this.shared?.invalidate(keys);
      const unconfirmed = await this.bus?.publish(this.name, keys);
      if (unconfirmed) {
        this.metrics?.cacheInvalidationUnconfirmed(this.name, unconfirmed);
        this.errors.log('an invalidation was not confirmed in time by every instance; one may answer from its local copy until the message reaches it', {
          cache: this.name,
          unconfirmed,
        });
      }
    } catch (err) {
      // Redis did not take it: a copy in Redis or on another instance may be stale. This instance reads
      // the database until a full invalidation gets through (retried every second).
      this.errors.log('cache invalidation could not reach Redis; retrying a full invalidation', { cache: this.name, error: (err as Error).message });
      this.repair();
    }
  }

  private repairing?: NodeJS.Timeout;

  private repair(): void {
    if (this.repairing) return;
    this.repairing = setInterval(() => {
      void (async () => {
        try {
          await this.shared?.invalidate('all');
          await this.bus?.publish(this.name, 'all');
          clearInterval(this.repairing);
          this.repairing = undefined;
        } catch {
          // still down: next second
        }
      })();
    }, 1000);
    this.repairing.unref();
  }

  close(): void {
    clearInterval(this.repairing);
  }

  private dropLocal(keys: string[] | 'all'): void {
    this.epoch++;
    if (!this.local) return;
    if (keys === 'all') this.local.clear();
    else for (const key of keys) this.local.delete(key);
  }
}

// --- The three caches, typed -----------------------------------------------------------------------

/** What a poll of a pending device code reads (a copy per waiting device, so only that). */
export type PendingDeviceCode = Pick<DeviceCode, 'id' | 'clientId' | 'status' | 'interval' | 'lastPolledAt' | 'expiresAt'>;

export function pendingCopy(row: DeviceCode): PendingDeviceCode {
  return { id: row.id, clientId: row.clientId, status: row.status, interval: row.interval, lastPolledAt: row.lastPolledAt, expiresAt: row.expiresAt };
}

/** A cached user never carries the password hash (a bcrypt hash of a possibly weak password). */
const PASSWORD_MARKER = '(not cached)';

/**
 * The caches the services read through and invalidate. Clients are cached under their row id and
 * their public client_id (both dropped together); users under their id; access tokens under the
 * SHA-256 of their value, as the bare row (owner and client are read through their own caches, so
 * disabling a user or a client needs no token invalidation).
 */
export class Caches {
  readonly clients: Cache<OAuthClient>;
  readonly users: Cache<User>;
  readonly tokens: Cache<Token>;
  readonly pendingDeviceCodes: Cache<PendingDeviceCode>;

  constructor(
    settings: { client: CacheSettings; user: CacheSettings; token: CacheSettings },
    private readonly deps: {
      redis?: Redis;
      subscriber?: Redis;
      keyPrefix: string;
      logger: Logger;
      metrics?: Pick<Metrics, 'cacheHit' | 'cacheMiss' | 'cacheInvalidationUnconfirmed'>;
      /** How long an invalidation waits for the other instances' confirmations (CACHE_INVALIDATION_TIMEOUT). */
      confirmWithinMs?: number;
    },
  ) {
    const bus =
      deps.redis && deps.subscriber ? new InvalidationBus(deps.redis, deps.subscriber, `${deps.keyPrefix}cache-invalidations`, deps.confirmWithinMs) : undefined;
    this.bus = bus;
    const common = { redis: deps.redis, bus, keyPrefix: deps.keyPrefix, logger: deps.logger, metrics: deps.metrics };
    this.clients = new Cache('client', settings.client, rowCodec<OAuthClient>(['createdAt', 'updatedAt']), common);
    this.users = new Cache(
      'user',
      settings.user,
      rowCodec<User>(['lastLoginAt', 'createdAt', 'updatedAt'], (user) => ({ ...user, passwordHash: user.passwordHash === null ? null : PASSWORD_MARKER })),
      common,
    );
    this.tokens = new Cache(
      'token',
      settings.token,
      rowCodec<Token>(['authTime', 'expiresAt', 'lastUsedAt', 'revokedAt', 'successorSealedUntil', 'createdAt'], (token) => ({
        ...token,
        successorSealed: null,
        successorSealedUntil: null,
      })),
      common,
    );
    // Device codes still waiting for their user, for the polls of the devices (the token endpoint's
    // most frequent request while people are signing in). Only pending rows are stored, and the one
    // change a pending row undergoes, the user's decision, invalidates it; a copy that is late by an
    // invalidation only answers authorization_pending once more, since a code is only ever redeemed
    // inside the issuing transaction. Same backend and lifetime as the token-status cache: a copy has to
    // outlive the polls of its code (with a short lifetime, the codes of a burst of sign-ins all fell
    // back to the database together, a minute later).
    this.pendingDeviceCodes = new Cache(
      'device_code',
      settings.token,
      rowCodec<PendingDeviceCode>(['lastPolledAt', 'expiresAt']),
      common,
    );
  }

  private readonly bus?: InvalidationBus;

  /** Starts listening for other instances' invalidations (when Redis is configured). */
  async start(): Promise<void> {
    await this.bus?.subscribe();
  }

  close(): void {
    for (const cache of [this.clients, this.users, this.tokens, this.pendingDeviceCodes]) cache.close();
  }

  clientById(id: string, load: () => Promise<OAuthClient | null>): Promise<OAuthClient | null> {
    return this.clients.get(`id:${id}`, load);
  }

  clientByClientId(clientId: string, load: () => Promise<OAuthClient | null>): Promise<OAuthClient | null> {
    return this.clients.get(`cid:${clientId}`, load);
  }

  user(id: string, load: () => Promise<User | null>): Promise<User | null> {
    return this.users.get(id, load);
  }

  /** A device code while it is pending (`load` must return null for any other status); keyed by the SHA-256 of the device_code. */
  pendingDeviceCode(deviceCodeHash: string, load: () => Promise<PendingDeviceCode | null>): Promise<PendingDeviceCode | null> {
    return this.pendingDeviceCodes.get(deviceCodeHash, load);
  }

  /** After a user's decision on a device code committed. */
  deviceCodeDecided(deviceCodeHash: string): Promise<void> {
    return this.pendingDeviceCodes.invalidate([deviceCodeHash]);
  }

  /** Access tokens only; `tokenHash` is the SHA-256 of the value. */
  accessToken(tokenHash: string, load: () => Promise<Token | null>): Promise<Token | null> {
    return this.tokens.get(tokenHash, load);
  }

  /** After a committed change to clients (settings, secret, approval, deletion, revoke-all). */
  clientChanged(...clients: { id: string; clientId: string }[]): Promise<void> {
    return this.clients.invalidate(clients.flatMap((c) => [`id:${c.id}`, `cid:${c.clientId}`]));
  }

  /** After a committed change to users (profile, password, role, active, deletion, sign-in time). */
  userChanged(...ids: string[]): Promise<void> {
    return this.users.invalidate(ids);
  }

  /**
   * After a committed change of token status (any revocation, a hold put or lifted). Revocations sweep
   * by owner, client or family, so the whole token cache goes: simple, and nothing can be missed.
   */
  tokensChanged(): Promise<void> {
    return this.tokens.clear();
  }
}
