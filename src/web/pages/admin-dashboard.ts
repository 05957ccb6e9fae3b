// GET /admin: the dashboard. Current counts (users, clients, tokens, consents, device codes) and, over
// a window (hour, day, week, month), sign-ins and tokens issued per grant type, all from `stats`.
// The series are drawn by chart.js (templates/static/dashboard.js, served from the project) from a
// JSON data block, and shown as tables too, so the figures are there without script.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { BadInput } from '../../domain/errors.js';
import { AdminDashboardStatsDocument, type StatsWindow } from '../generated/graphql.js';
import { adminOnly, type PageDeps } from './kit.js';

const WINDOWS: { value: StatsWindow; label: string }[] = [
  { value: 'HOUR', label: 'Last hour' },
  { value: 'DAY', label: 'Last 24 hours' },
  { value: 'WEEK', label: 'Last 7 days' },
  { value: 'MONTH', label: 'Last 30 days' },
];

/** ?window=day (any case); DAY when absent. */
function windowFrom(ctx: Context): StatsWindow {
  const raw = ctx.query.window;
  if (raw === undefined || raw === '') return 'DAY';
  const value = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
  const known = WINDOWS.find((w) => w.value === value);
  if (!known) throw new BadInput(`Unknown time window. Use one of: ${WINDOWS.map((w) => w.value.toLowerCase()).join(', ')}.`);
  return known.value;
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** An interval's label in UTC, as precise as the window needs. */
function bucketLabel(iso: string, window: StatsWindow): string {
  const d = new Date(iso);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
  if (window === 'HOUR' || window === 'DAY') return time;
  if (window === 'WEEK') return `${DAYS[d.getUTCDay()]} ${day} ${time}`;
  return day;
}

/** Readable names for the grant types the token endpoint records. */
function grantLabel(grantType: string): string {
  if (grantType === 'urn:ietf:params:oauth:grant-type:device_code') return 'device code';
  return grantType.replace(/_/g, ' ');
}

/** JSON for a <script type="application/json"> block: nothing in it can close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function adminDashboardRoutes(router: Router, deps: PageDeps): void {
  router.get('/admin', adminOnly, async (ctx: Context) => {
    const window = windowFrom(ctx);
    const { stats } = await deps.gql.run(ctx, AdminDashboardStatsDocument, { window });

    const labels = stats.logins.map((b) => bucketLabel(b.start, window));
    const logins = stats.logins.map((b) => b.count);
    const failedLogins = stats.failedLogins.map((b) => b.count);
    const issued = stats.tokensIssued.map((s) => ({ label: grantLabel(s.grantType), counts: s.buckets.map((b) => b.count) }));
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

    const clientsBy = (pick: (c: (typeof stats.clients)[number]) => boolean) => sum(stats.clients.filter(pick).map((c) => c.count));
    const tokensOf = (category: string) => stats.activeTokens.find((t) => t.category === category)?.count ?? 0;

    deps.render(ctx, 'admin/dashboard.njk', {
      title: 'Dashboard',
      window,
      windows: WINDOWS.map((w) => ({ ...w, param: w.value.toLowerCase(), current: w.value === window })),
      windowLabel: WINDOWS.find((w) => w.value === window)!.label,
      stats,
      cards: {
        users: stats.users,
        clients: {
          approved: clientsBy((c) => c.status === 'APPROVED' && c.active),
          pending: clientsBy((c) => c.status === 'PENDING'),
          rejected: clientsBy((c) => c.status === 'REJECTED'),
          inactive: clientsBy((c) => c.status === 'APPROVED' && !c.active),
          confidential: clientsBy((c) => c.type === 'CONFIDENTIAL'),
          public: clientsBy((c) => c.type === 'PUBLIC'),
        },
        tokens: { access: tokensOf('ACCESS'), refresh: tokensOf('REFRESH') },
      },
      totals: { logins: sum(logins), failedLogins: sum(failedLogins), issued: sum(issued.map((s) => sum(s.counts))) },
      rows: labels.map((label, i) => ({
        label,
        start: stats.logins[i]!.start,
        logins: logins[i],
        failedLogins: failedLogins[i],
        issued: issued.map((s) => s.counts[i] ?? 0),
      })),
      issued,
      chartJson: jsonForScript({ labels, logins, failedLogins, issued }),
    });
  });
}
