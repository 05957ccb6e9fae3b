// What a dashboard charts: current counts (users, clients, tokens, consents, pending device codes)
// and, over a window, logins, failed logins and tokens issued per grant type per interval. The
// counts are grouped queries and the series come from the audit log, bucketed in SQL, so the cost is
// a fixed number of queries whatever the size of the tables.
import { countAuditEventsPerBucket } from '../db/audit-buckets.js';
import type { Db } from '../db/client.js';

export type StatsWindow = 'HOUR' | 'DAY' | 'WEEK' | 'MONTH';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Window length and bucket size: 12 to 30 points per chart. */
export const STATS_WINDOWS: Record<StatsWindow, { length: number; bucket: number }> = {
  HOUR: { length: HOUR, bucket: 5 * MINUTE },
  DAY: { length: DAY, bucket: HOUR },
  WEEK: { length: 7 * DAY, bucket: 6 * HOUR },
  MONTH: { length: 30 * DAY, bucket: DAY },
};

const LOGIN = 'AUTHENTICATION_SUCCESS';
const LOGIN_FAILED = 'AUTHENTICATION_FAILURE';
const TOKEN_ISSUED = 'ACCESS_TOKEN_ISSUED';
const TOKEN_REFRESHED = 'TOKEN_REFRESHED';

export interface Bucket {
  start: Date;
  count: number;
}

export interface Stats {
  window: StatsWindow;
  since: Date;
  until: Date;
  bucketSeconds: number;
  users: { active: number; disabled: number; admins: number };
  clients: { type: string; status: string; active: boolean; count: number }[];
  activeTokens: { category: string; count: number }[];
  authorizations: number;
  pendingDeviceCodes: number;
  logins: Bucket[];
  failedLogins: Bucket[];
  tokensIssued: { grantType: string; buckets: Bucket[] }[];
}

export class StatsService {
  constructor(
    private readonly db: Db,
    private readonly dialect: 'sqlite' | 'postgresql',
  ) {}

  async stats(window: StatsWindow, now = new Date()): Promise<Stats> {
    const { length, bucket } = STATS_WINDOWS[window];
    // Buckets align to the bucket size so two dashboards polling a minute apart draw the same bars.
    const until = new Date(Math.ceil((now.getTime() + 1) / bucket) * bucket);
    const since = new Date(until.getTime() - length);
    const [usersByActive, admins, clients, tokens, authorizations, pendingDeviceCodes, counts] = await Promise.all([
      this.db.user.groupBy({ by: ['active'], _count: { _all: true } }),
      this.db.user.count({ where: { role: 'admin', active: true } }),
      this.db.oAuthClient.groupBy({ by: ['clientType', 'approvalStatus', 'active'], _count: { _all: true } }),
      this.db.token.groupBy({ by: ['category'], where: { status: 'active', expiresAt: { gt: now } }, _count: { _all: true } }),
      this.db.userAuthorization.count({ where: { revokedAt: null } }),
      this.db.deviceCode.count({ where: { status: 'pending', expiresAt: { gt: now } } }),
      countAuditEventsPerBucket(this.db, this.dialect, { eventTypes: [LOGIN, LOGIN_FAILED, TOKEN_ISSUED, TOKEN_REFRESHED], since, until, bucketMs: bucket }),
    ]);
    const buckets = Math.round(length / bucket);
    const series = (pick: (c: (typeof counts)[number]) => boolean): Bucket[] => {
      const values = new Array<number>(buckets).fill(0);
      for (const c of counts) if (pick(c) && c.bucket >= 0 && c.bucket < buckets) values[c.bucket]! += c.count;
      return values.map((count, i) => ({ start: new Date(since.getTime() + i * bucket), count }));
    };
    const grantTypes = new Set<string>();
    for (const c of counts) if (c.eventType === TOKEN_ISSUED && c.grantType) grantTypes.add(c.grantType);
    if (counts.some((c) => c.eventType === TOKEN_REFRESHED)) grantTypes.add('refresh_token');
    const grantTypeOf = (c: (typeof counts)[number]) => (c.eventType === TOKEN_REFRESHED ? 'refresh_token' : c.grantType);

    return {
      window,
      since,
      until,
      bucketSeconds: bucket / 1000,
      users: {
        active: usersByActive.find((g) => g.active)?._count._all ?? 0,
        disabled: usersByActive.find((g) => !g.active)?._count._all ?? 0,
        admins,
      },
      clients: clients.map((g) => ({ type: g.clientType, status: g.approvalStatus, active: g.active, count: g._count._all })),
      activeTokens: (['access', 'refresh'] as const).map((category) => ({
        category,
        count: tokens.find((g) => g.category === category)?._count._all ?? 0,
      })),
      authorizations,
      pendingDeviceCodes,
      logins: series((c) => c.eventType === LOGIN),
      failedLogins: series((c) => c.eventType === LOGIN_FAILED),
      tokensIssued: [...grantTypes].sort().map((grantType) => ({
        grantType,
        buckets: series((c) => (c.eventType === TOKEN_ISSUED || c.eventType === TOKEN_REFRESHED) && grantTypeOf(c) === grantType),
      })),
    };
  }
}
