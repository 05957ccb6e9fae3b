// `stats(window)`: what an admin dashboard charts. Counted by StatsService in a fixed number of queries.
import type { Bucket, Stats } from '../../services/stats.js';
import { builder } from '../builder.js';
import { ApprovalStatusEnum, ClientTypeEnum } from './clients.js';
import { TokenCategoryEnum } from './tokens.js';

export const StatsWindowEnum = builder.enumType('StatsWindow', {
  description: 'HOUR: 5-minute intervals; DAY: hourly; WEEK: 6-hourly; MONTH (30 days): daily.',
  values: { HOUR: { value: 'HOUR' as const }, DAY: { value: 'DAY' as const }, WEEK: { value: 'WEEK' as const }, MONTH: { value: 'MONTH' as const } },
});

const BucketRef = builder.objectRef<Bucket>('StatsBucket').implement({
  fields: (t) => ({
    start: t.expose('start', { type: 'DateTime', description: 'The interval starts here and lasts `bucketSeconds`.' }),
    count: t.exposeInt('count'),
  }),
});

const UserCountsRef = builder.objectRef<Stats['users']>('UserCounts').implement({
  fields: (t) => ({ active: t.exposeInt('active'), disabled: t.exposeInt('disabled'), admins: t.exposeInt('admins', { description: 'Active administrators.' }) }),
});

const ClientCountRef = builder.objectRef<Stats['clients'][number]>('ClientCount').implement({
  fields: (t) => ({
    type: t.field({ type: ClientTypeEnum, resolve: (c) => c.type as 'public' | 'confidential' }),
    status: t.field({ type: ApprovalStatusEnum, resolve: (c) => c.status as 'pending' | 'approved' | 'rejected' }),
    active: t.exposeBoolean('active'),
    count: t.exposeInt('count'),
  }),
});

const TokenCountRef = builder.objectRef<Stats['activeTokens'][number]>('TokenCount').implement({
  fields: (t) => ({
    category: t.field({ type: TokenCategoryEnum, resolve: (c) => c.category as 'access' | 'refresh' }),
    count: t.exposeInt('count'),
  }),
});

const GrantTypeSeriesRef = builder.objectRef<Stats['tokensIssued'][number]>('GrantTypeSeries').implement({
  fields: (t) => ({
    grantType: t.exposeString('grantType'),
    buckets: t.field({ type: [BucketRef], resolve: (s) => s.buckets }),
  }),
});

const StatsRef = builder.objectRef<Stats>('Stats').implement({
  fields: (t) => ({
    window: t.field({ type: StatsWindowEnum, resolve: (s) => s.window }),
    since: t.expose('since', { type: 'DateTime' }),
    until: t.expose('until', { type: 'DateTime' }),
    bucketSeconds: t.exposeInt('bucketSeconds'),
    users: t.field({ type: UserCountsRef, resolve: (s) => s.users }),
    clients: t.field({ type: [ClientCountRef], description: 'Clients by type, approval status and active flag.', resolve: (s) => s.clients }),
    activeTokens: t.field({ type: [TokenCountRef], description: 'Tokens that work now, by category.', resolve: (s) => s.activeTokens }),
    authorizations: t.exposeInt('authorizations', { description: 'Consents in force (user × app).' }),
    pendingDeviceCodes: t.exposeInt('pendingDeviceCodes', { description: 'Device codes waiting for a user, unexpired.' }),
    logins: t.field({ type: [BucketRef], description: 'Successful sign-ins per interval.', resolve: (s) => s.logins }),
    failedLogins: t.field({ type: [BucketRef], description: 'Failed sign-ins per interval.', resolve: (s) => s.failedLogins }),
    tokensIssued: t.field({
      type: [GrantTypeSeriesRef],
      description: 'Access tokens issued per grant type per interval (refreshes count as refresh_token).',
      resolve: (s) => s.tokensIssued,
    }),
  }),
});

builder.queryField('stats', (t) =>
  t.field({
    type: StatsRef,
    authScopes: { admin: true },
    args: { window: t.arg({ type: StatsWindowEnum, defaultValue: 'DAY', required: true }) },
    resolve: (_root, { window }, ctx) => ctx.services.stats.stats(window),
  }),
);
