// The Device Authorization Grant (RFC 8628): the device asks for a code pair, the user approves
// the user_code in a browser, the device polls the token endpoint with the device_code.
import type { Config } from '../config/env.js';
import type { Db, DeviceCode, OAuthClient, Prisma, User } from '../db/client.js';
import { isUniqueViolation } from '../db/errors.js';
import { randomToken, sha256Hex } from '../domain/crypto.js';
import {
  AccessDenied,
  AuthorizationPending,
  BadInput,
  ExpiredToken,
  InvalidGrant,
  SlowDown,
} from '../domain/errors.js';
import { DEVICE_CODE_GRANT_TYPE } from '../domain/grant-types.js';
import { selectResources } from '../domain/resources.js';
import { formatScope, parseScope, requireScopesWithin } from '../domain/scopes.js';
import { displayUserCode, generateUserCode, normalizeUserCode } from '../domain/user-code.js';
import type { DeviceCodeValidation, Metrics } from '../ops/metrics.js';
import { pendingCopy, type Caches, type PendingDeviceCode } from '../ops/cache.js';
import type { IssuanceStore, PollState } from '../db/issuance-writer.js';
import type { AuditLog } from './audit.js';
import type { ClientService } from './clients.js';
import type { RequestInfo } from './request-context.js';
import { inConsentTransaction, mergeConsent } from './consents.js';
import type { TokenSet, TokenService, TokenSource } from './tokens.js';

/** RFC 8628 §3.5: each slow_down adds 5 seconds to the interval. */
const SLOW_DOWN_STEP = 5;
const POLL_FLUSH_INTERVAL_MS = 1000;
/** Poll times written per statement (see flushPolls). */
const POLL_FLUSH_SLICE = 200;

/**
 * A new device authorization (RFC 8628 §3.2): the values the device shows and polls with. The face
 * adds where the person goes to enter the code (a page of the HTML face).
 */
export interface DeviceAuthorization {
  deviceCode: string;
  /** The user_code as shown to people (with its separator). */
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** What the approval page shows the user. */
export interface PendingDeviceRequest {
  userCode: string;
  displayCode: string;
  clientName: string;
  clientId: string;
  scopes: string[];
  resources: string[];
}

export class DeviceCodeService {
  constructor(
    private readonly db: Db,
    private readonly clients: ClientService,
    private readonly tokens: TokenService,
    private readonly audit: AuditLog,
    private readonly config: Pick<Config, 'baseUrl' | 'deviceCode' | 'database' | 'deviceFlow'>,
    private readonly metrics: Metrics,
    private readonly caches: Caches,
    private readonly pollStore: Pick<IssuanceStore, 'recordPolls'>,
  ) {
    this.pollFlush = setInterval(() => void this.flushPolls(), POLL_FLUSH_INTERVAL_MS);
    this.pollFlush.unref();
  }

  /**
   * When each code was last polled here and its interval: what the interval rule reads first, so that
   * a poll costs no database write. Written to the database behind the polls, every second, in one
   * transaction (another instance, or this one after a restart, reads it there, up to a second late:
   * the rule is about a device's pace, not a security boundary, and its tolerance is wider than that).
   */
  private readonly polls = new Map<string, PollState & { expiresAt: number }>();
  private unwritten = new Map<string, PollState>();
  private readonly pollFlush: NodeJS.Timeout;

  /** Writes the poll times not yet written, and forgets codes that have expired. */
  async flushPolls(): Promise<void> {
    const now = Date.now();
    for (const [id, seen] of this.polls) if (seen.expiresAt <= now) this.polls.delete(id);
    if (this.unwritten.size === 0) return;
    const pending = [...this.unwritten.values()];
    this.unwritten = new Map();
    // In slices, one after another: a second's polls of thousands of codes written at once kept the
    // event loop for one long task (the rows' parameters, their serialisation for the writer thread or
    // node-postgres), and every poll that arrived meanwhile waited for it.
    for (let start = 0; start < pending.length; start += POLL_FLUSH_SLICE) {
      const slice = pending.slice(start, start + POLL_FLUSH_SLICE);
      try {
        await this.pollStore.recordPolls(slice);
      } catch {
        // Kept for the next flush unless a newer poll replaced it meanwhile.
        for (const poll of slice) if (!this.unwritten.has(poll.id)) this.unwritten.set(poll.id, poll);
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.pollFlush);
    await this.flushPolls();
  }

  /**
   * Places a code's previous poll at `at` (null: never polled), here and in the database: how tests
   * let time pass without waiting, and how an operator could release a device from slow_down.
   */
  async setLastPoll(deviceCode: string, at: Date | null): Promise<void> {
    const row = await this.db.deviceCode.update({ where: { deviceCodeHash: sha256Hex(deviceCode) }, data: { lastPolledAt: at } });
    this.unwritten.delete(row.id);
    if (at) this.polls.set(row.id, { id: row.id, lastPolledAt: at, interval: row.interval, expiresAt: row.expiresAt.getTime() });
    else this.polls.delete(row.id);
  }

  /** RFC 8628 §3.1–3.2. */
  async authorize(client: OAuthClient, scope: string | undefined, resources: string[], req: RequestInfo): Promise<DeviceAuthorization> {
    try {
      const authorization = await this.newAuthorization(client, scope, resources, req);
      this.metrics.deviceCodesTotal.inc({ result: 'success' });
      return authorization;
    } catch (err) {
      this.metrics.deviceCodesTotal.inc({ result: 'error' });
      throw err;
    }
  }

  private async newAuthorization(client: OAuthClient, scope: string | undefined, resources: string[], req: RequestInfo): Promise<DeviceAuthorization> {
    this.clients.requireFlow(client, 'device');
    const allowed = parseScope(client.allowedScopes);
    let scopes = parseScope(scope);
    const defaulted = scopes.length === 0;
    if (defaulted) scopes = this.defaultScopes(allowed);
    requireScopesWithin(scopes, allowed, 'scope not allowed for this client');

    const deviceCode = randomToken(32);
    const expiresAt = new Date(Date.now() + this.config.deviceCode.expiration * 1000);
    const row = await this.insertWithFreshUserCode((userCode) => ({
      deviceCodeHash: sha256Hex(deviceCode),
      userCode,
      clientId: client.id,
      scopes: formatScope(scopes),
      resource: formatScope(resources),
      interval: this.config.deviceCode.interval,
      expiresAt,
    }));
    // The device starts polling at once: its first polls find the pending copy instead of the database.
    await this.caches.pendingDeviceCode(row.deviceCodeHash, async () => pendingCopy(row));
    this.audit.record({
      eventType: 'DEVICE_CODE_GENERATED',
      subject: { type: 'device_code', id: row.id },
      clientId: client.clientId,
      request: req,
      details: { scope: row.scopes, scope_defaulted: defaulted, expires_at: expiresAt.toISOString() },
    });
    return { deviceCode, userCode: displayUserCode(row.userCode), expiresIn: this.config.deviceCode.expiration, interval: row.interval };
  }

  /**
   * RFC 6749 §3.3 lets the server apply a pre-defined default when the client names no scope, and
   * RFC 8628 §3.1 makes it optional (AuthGate's SDKs omit it). The default is DEVICE_CODE_DEFAULT_SCOPE
   * (AuthGate's `email profile`) narrowed to what this client may have; a client allowed none of those
   * gets everything it is allowed, as the client_credentials grant does, so the request never fails
   * for want of a scope. The user sees and approves whatever it comes to on the verification page.
   */
  private defaultScopes(allowed: string[]): string[] {
    const allowedSet = new Set(allowed);
    const narrowed = this.config.deviceFlow.defaultScopes.filter((s) => allowedSet.has(s));
    return narrowed.length > 0 ? narrowed : allowed;
  }

  /** Finds the pending request a user typed in; BadInput (safe to show) when there is none. */
  async findPending(input: string): Promise<PendingDeviceRequest & { id: string; createdAt: Date }> {
    const userCode = normalizeUserCode(input);
    const row = userCode ? await this.db.deviceCode.findUnique({ where: { userCode }, include: { client: true } }) : null;
    if (!row || row.status !== 'pending' || row.expiresAt <= new Date() || !row.client.active) {
      throw new BadInput('That code is not valid or has expired. Check the code shown on your device and try again.');
    }
    return {
      id: row.id,
      createdAt: row.createdAt,
      userCode: row.userCode,
      displayCode: displayUserCode(row.userCode),
      clientName: row.client.name,
      clientId: row.client.clientId,
      scopes: parseScope(row.scopes),
      resources: parseScope(row.resource),
    };
  }

  /**
   * The user's answer. Only a still-pending, unexpired code can be decided, and only once. An approval
   * also records (or widens) the user's authorization for the client in the same transaction, as the
   * consent page does, so the app is listed and revocable like any other (AuthGate does the same).
   */
  async decide(input: string, user: User, approve: boolean, req: RequestInfo): Promise<PendingDeviceRequest> {
    const pending = await this.findPending(input);
    const dialect = this.config.database.dialect;
    const decided = await inConsentTransaction(this.db, dialect, async (tx) => {
      const changed = await tx.deviceCode.updateMany({
        where: { id: pending.id, status: 'pending', expiresAt: { gt: new Date() } },
        data: { status: approve ? 'approved' : 'denied', userId: user.id, decidedAt: new Date() },
      });
      if (changed.count !== 1) return null;
      const code = await tx.deviceCode.findUniqueOrThrow({ where: { id: pending.id }, select: { clientId: true, deviceCodeHash: true } });
      if (approve) await mergeConsent(tx, dialect, user.id, code.clientId, pending.scopes);
      return code;
    });
    if (!decided) throw new BadInput('That code was already used or has expired.');
    // The device's next poll must see the decision, not the pending copy.
    await this.caches.deviceCodeDecided(decided.deviceCodeHash);
    if (approve) {
      this.metrics.deviceCodesAuthorized.inc();
      this.metrics.deviceCodeAuthorizationDuration.observe(Math.max(0, (Date.now() - pending.createdAt.getTime()) / 1000));
    }
    this.audit.record({
      eventType: approve ? 'DEVICE_CODE_AUTHORIZED' : 'DEVICE_CODE_DENIED',
      actor: { userId: user.id, username: user.username },
      subject: { type: 'device_code', id: pending.id },
      clientId: pending.clientId,
      request: req,
      details: { scope: formatScope(pending.scopes) },
    });
    return pending;
  }

  /** RFC 8628 §3.4–3.5: the device polls with its device_code. Tokens come out exactly once. */
  async exchange(deviceCode: string, client: OAuthClient, requestedResources: string[], req: RequestInfo): Promise<TokenSet> {
    try {
      const set = await this.redeem(deviceCode, client, requestedResources, req);
      this.metrics.deviceCodeValidation.inc({ result: 'success' });
      return set;
    } catch (err) {
      this.metrics.deviceCodeValidation.inc({ result: pollResult(err) });
      throw err;
    }
  }

  private async redeem(deviceCode: string, client: OAuthClient, requestedResources: string[], req: RequestInfo): Promise<TokenSet> {
    this.clients.requireFlow(client, 'device');
    const deviceCodeHash = sha256Hex(deviceCode);
    // Most polls are of codes still waiting for their user: answered from the pending copy, no query.
    const waiting = await this.caches.pendingDeviceCode(deviceCodeHash, async () => {
      const row = await this.db.deviceCode.findUnique({ where: { deviceCodeHash } });
      return row?.status === 'pending' ? pendingCopy(row) : null;
    });
    if (waiting && waiting.clientId === client.id) {
      const now = new Date();
      if (waiting.expiresAt <= now) throw new ExpiredToken();
      this.enforceInterval(waiting, now);
      throw new AuthorizationPending();
    }
    const row = await this.db.deviceCode.findUnique({ where: { deviceCodeHash }, include: { user: true } });
    if (!row || row.clientId !== client.id) throw new InvalidGrant('device_code is invalid');
    if (row.status === 'consumed') throw new InvalidGrant('device_code has already been used');
    const now = new Date();
    if (row.expiresAt <= now) throw new ExpiredToken();
    this.enforceInterval(row, now);
    if (row.status === 'pending') throw new AuthorizationPending();
    if (row.status === 'denied') throw new AccessDenied();

    if (row.revokedAt) throw new AccessDenied('the authorization was withdrawn');

    const user = row.user;
    if (!user?.active) throw new AccessDenied('the approving user is no longer active');
    const granted = parseScope(row.resource);
    const resources = selectResources(requestedResources, granted);
    const source: TokenSource = {
      // Conditional update inside the issuing transaction: only one poll moves approved → consumed.
      claim: async (tx) =>
        (await tx.deviceCode.updateMany({ where: { id: row.id, status: 'approved', revokedAt: null }, data: { status: 'consumed' } })).count === 1,
      lost: async (tx) => {
        const current = await tx.deviceCode.findUnique({ where: { id: row.id } });
        if (current?.revokedAt && current.status === 'approved') return { error: new AccessDenied('the authorization was withdrawn') };
        return { error: new InvalidGrant('device_code has already been used') };
      },
    };
    return this.tokens.issue(
      {
        client,
        user,
        scopes: parseScope(row.scopes),
        resources,
        grantedResources: granted,
        grantType: DEVICE_CODE_GRANT_TYPE,
        authTime: row.decidedAt ?? now,
      },
      { withRefresh: true, source },
      req,
    );
  }

  /**
   * Polling faster than the interval gets slow_down and a longer interval from then on. A client that
   * waits exactly `interval` between polls is not polling faster, yet its polls can reach us a little
   * closer together than that (the previous request delayed on the network or queued here, a timer
   * measured from send rather than from the answer). So a poll may arrive early by up to
   * DEVICE_CODE_POLLING_TOLERANCE of the interval (default 20%, 1 s at 5 s) before it counts as too soon.
   */
  private enforceInterval(row: PendingDeviceCode, now: Date): void {
    // This instance's record of the code's polls when it has one (checked and set in one synchronous
    // step, so two racing polls cannot both be on time); else the row's, for a code polled elsewhere
    // before (the row may be the pending copy, as of when it was read).
    const seen = this.polls.get(row.id);
    const last = (seen ? seen.lastPolledAt : row.lastPolledAt)?.getTime() ?? 0;
    const current = seen ? seen.interval : row.interval;
    const minGapMs = current * 1000 * (1 - this.config.deviceFlow.pollTolerance);
    const tooSoon = last > 0 && now.getTime() - last < minGapMs;
    const interval = tooSoon ? current + SLOW_DOWN_STEP : current;
    const poll = { id: row.id, lastPolledAt: now, interval };
    this.polls.set(row.id, { ...poll, expiresAt: row.expiresAt.getTime() });
    this.unwritten.set(row.id, poll);
    if (tooSoon) throw new SlowDown(interval);
  }

  /** Inserts with a new random user_code, retrying the rare collision with a live code. */
  private async insertWithFreshUserCode(data: (userCode: string) => Omit<Prisma.DeviceCodeUncheckedCreateInput, 'id'>): Promise<DeviceCode> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.deviceCode.create({ data: data(generateUserCode()) });
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= 5) throw err;
      }
    }
  }
}

/** How a poll that did not get tokens ended, as oauth_device_code_validation_total labels it. */
function pollResult(err: unknown): DeviceCodeValidation {
  if (err instanceof AuthorizationPending) return 'pending';
  if (err instanceof SlowDown) return 'slow_down';
  if (err instanceof ExpiredToken) return 'expired';
  if (err instanceof AccessDenied) return 'denied';
  return 'invalid';
}
