// /admin/audit: the audit log, newest first, filtered by event types, severity, actor (a username, or
// a user id from a link), client_id, a time range (UTC) and free text; paged forward (the API's
// keyset cursors), with a CSV export of the same filter and a live view (templates/static/audit-live.js)
// that follows the `auditEvents` subscription from the browser.
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AdminAuditActorDocument, AdminAuditEventsDocument, type AuditEventFilter, type Severity } from '../generated/graphql.js';
import { adminOnly, globalId, rawId, type FieldErrors, type PageDeps } from './kit.js';

const PAGE_SIZE = 50;
const SEVERITIES: Severity[] = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const RAW_ID = /^[A-Za-z0-9_-]{1,100}$/;
const EVENT_TYPE = /^[A-Za-z0-9_.:-]{1,100}$/;
// datetime-local sends "YYYY-MM-DDTHH:MM" (seconds when the step allows); ISO instants with a zone
// (e.g. from a link) are accepted as well.
const LOCAL_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?$/;
const ZONED_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Event types the server writes, offered as suggestions in the types field (any type can be typed). */
export const KNOWN_EVENT_TYPES = [
  'ACCESS_TOKEN_ISSUED',
  'AUTHENTICATION_FAILURE',
  'AUTHENTICATION_SUCCESS',
  'AUTHORIZATION_CODE_ISSUED',
  'AUTHORIZATION_CODE_REUSE',
  'AUTHORIZATION_REVOKED',
  'CLIENT_AUTHENTICATION_FAILURE',
  'CLIENT_REGISTERED',
  'CLIENT_REGISTRATION_REFUSED',
  'CLIENT_TOKENS_REVOKED',
  'CONSENT_DENIED',
  'CONSENT_GRANTED',
  'DEVICE_CODE_GENERATED',
  'LOGOUT',
  'PASSWORD_CHANGED',
  'PASSWORD_CHANGE_FAILED',
  'REFRESH_TOKEN_GRACE_REPLAY',
  'REFRESH_TOKEN_REUSE',
  'SESSIONS_REVOKED',
  'SESSION_REVOKED',
  'TOKEN_FAMILY_REVOKED',
  'TOKEN_REFRESHED',
  'TOKEN_REVOCATION_REFUSED',
  'TOKEN_REVOKED',
  'USER_TOKENS_REVOKED',
];

/** What the form shows back, as typed. */
interface AuditQuery {
  types: string;
  severities: string[];
  actor: string;
  actorId: string;
  clientId: string;
  since: string;
  until: string;
  search: string;
}

function all(ctx: Context, name: string): string[] {
  const raw = ctx.query[name];
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => v.trim());
}

function one(ctx: Context, name: string): string {
  return all(ctx, name).find((v) => v !== '') ?? '';
}

/** A datetime-local value read as UTC (or an ISO instant with its zone); undefined when it is not one. */
export function utcInstant(value: string): Date | undefined {
  const local = LOCAL_DATETIME.exec(value);
  if (local) {
    const [, y, mo, d, h, mi, s] = local.map(Number) as number[];
    const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, Number.isNaN(s) ? 0 : s!));
    // Date.UTC rolls "02-31" over into March: refuse dates that do not exist.
    if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo! - 1 || date.getUTCDate() !== d || h! > 23 || mi! > 59) return undefined;
    return date;
  }
  if (ZONED_DATETIME.test(value)) {
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/** For a datetime-local input: "YYYY-MM-DDTHH:MM" in UTC. */
function localValue(date: Date): string {
  return date.toISOString().slice(0, 16);
}

interface ParsedFilter {
  values: AuditQuery;
  filter: AuditEventFilter;
  errors: FieldErrors;
  /** The user the actor field named, when found. */
  actorName?: string;
}

async function filterFrom(ctx: Context, deps: PageDeps): Promise<ParsedFilter> {
  const values: AuditQuery = {
    types: all(ctx, 'types').join(' ').trim(),
    severities: all(ctx, 'severities').flatMap((v) => v.split(',')).map((v) => v.trim().toUpperCase()).filter(Boolean),
    actor: one(ctx, 'actor'),
    actorId: one(ctx, 'actorId'),
    clientId: one(ctx, 'clientId'),
    since: one(ctx, 'since'),
    until: one(ctx, 'until'),
    search: one(ctx, 'search'),
  };
  const filter: AuditEventFilter = {};
  const errors: FieldErrors = {};

  const types = values.types.split(/[\s,]+/).filter(Boolean);
  if (types.length > 0) {
    const bad = types.filter((t) => !EVENT_TYPE.test(t));
    if (bad.length > 0) errors.types = 'Event types are words like AUTHENTICATION_FAILURE, separated by spaces or commas.';
    else filter.types = types.map((t) => t.toUpperCase());
  }
  if (values.severities.length > 0) {
    const unknown = values.severities.filter((s) => !(SEVERITIES as string[]).includes(s));
    if (unknown.length > 0) errors.severities = `Unknown severity ${unknown.map((s) => `"${s}"`).join(', ')}: choose from ${SEVERITIES.map((s) => s.toLowerCase()).join(', ')}.`;
    else filter.severities = values.severities as Severity[];
  }

  let actorName: string | undefined;
  if (values.actorId) {
    if (RAW_ID.test(values.actorId)) filter.actorId = globalId('User', values.actorId);
    else errors.actor = 'This is not a user id.';
  } else if (values.actor.length > 100) {
    errors.actor = 'At most 100 characters.';
  } else if (values.actor) {
    const user = await userNamed(ctx, deps, values.actor);
    if (user) {
      filter.actorId = user.id;
      actorName = user.username;
    } else {
      errors.actor = `No user is called "${values.actor}". To find events of a deleted user or a client, search for the name in the text field.`;
    }
  }
  if (values.clientId) filter.clientId = values.clientId;

  for (const name of ['since', 'until'] as const) {
    if (!values[name]) continue;
    const at = utcInstant(values[name]);
    if (at) filter[name] = at.toISOString();
    else errors[name] = `"${values[name].slice(0, 40)}" is not a date and time: enter one as YYYY-MM-DDTHH:MM (UTC).`;
  }
  if (filter.since && filter.until && filter.since >= filter.until) errors.until = 'Must be later than "From".';
  if (values.search.length > 200) errors.search = 'At most 200 characters.';
  else if (values.search) filter.search = values.search;
  return { values, filter, errors, actorName };
}

/** The user with this username (any case), looked for among the users whose names contain it. */
async function userNamed(ctx: Context, deps: PageDeps, username: string): Promise<{ id: string; username: string } | undefined> {
  const wanted = username.toLowerCase();
  let after: string | undefined;
  // The search also matches emails and full names, so the exact name may be on a later page; a
  // hundred users a page, ten pages at most.
  for (let page = 0; page < 10; page++) {
    const { users } = await deps.gql.run(ctx, AdminAuditActorDocument, { search: username, after });
    const user = users.edges.map((e) => e.node).find((u) => u.username.toLowerCase() === wanted);
    if (user) return user;
    if (!users.pageInfo.hasNextPage || !users.pageInfo.endCursor) return undefined;
    after = users.pageInfo.endCursor;
  }
  return undefined;
}

/** The CSV export's query string for the same filter (see src/web/audit-export.ts for the names). */
function exportQuery(filter: AuditEventFilter): string {
  const params = new URLSearchParams();
  if (filter.types?.length) params.set('types', filter.types.join(','));
  if (filter.severities?.length) params.set('severities', filter.severities.join(','));
  if (filter.actorId) params.set('actorId', rawId(String(filter.actorId)));
  if (filter.clientId) params.set('clientId', filter.clientId);
  if (filter.since) params.set('since', filter.since);
  if (filter.until) params.set('until', filter.until);
  if (filter.search) params.set('search', filter.search);
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

/** The page's own query string for the filter as typed, plus `extra`. */
function pageQuery(values: AuditQuery, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (values.types) params.set('types', values.types);
  for (const s of values.severities) params.append('severities', s);
  if (values.actorId) params.set('actorId', values.actorId);
  else if (values.actor) params.set('actor', values.actor);
  for (const name of ['clientId', 'since', 'until', 'search'] as const) if (values[name]) params.set(name, values[name]);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const qs = params.toString();
  return qs ? `?${qs}` : '';
}

/** An event's details (a JSON object) as key/value pairs to show; null when they are not an object. */
function detailPairs(details: string): { key: string; value: string }[] | null {
  try {
    const parsed: unknown = JSON.parse(details);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    return Object.entries(parsed).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  } catch {
    return null;
  }
}

function severityClass(severity: Severity): string {
  return severity === 'INFO' ? '' : severity === 'WARNING' ? 'warn' : 'bad';
}

export function adminAuditRoutes(router: Router, deps: PageDeps): void {
  router.get('/admin/audit', adminOnly, async (ctx: Context) => {
    const parsed = await filterFrom(ctx, deps);
    const { values, filter, errors } = parsed;
    const invalid = Object.keys(errors).length > 0;
    const after = one(ctx, 'after') || undefined;

    // A filter that could not be read is not run half-applied: the form says what to fix.
    const result = invalid ? null : (await deps.gql.run(ctx, AdminAuditEventsDocument, { first: PAGE_SIZE, after, filter })).auditEvents;
    const events = (result?.edges ?? []).map(({ node: e }) => ({
      ...e,
      actorRawId: e.actorId ? rawId(e.actorId) : null,
      // Long event types may break after their underscores (and nowhere else).
      typeParts: e.eventType.split('_'),
      detailPairs: detailPairs(e.details),
      severityClass: severityClass(e.severity),
    }));
    const actorName = parsed.actorName ?? (values.actorId ? events.find((e) => e.actorRawId === values.actorId)?.actorUsername : undefined);
    const hasFilter = Object.keys(filter).length > 0;

    deps.render(
      ctx,
      'admin/audit.njk',
      {
        title: 'Audit log',
        values: {
          ...values,
          // From a link, since/until may be ISO instants: shown in the inputs as UTC wall time.
          since: filter.since ? localValue(new Date(filter.since)) : values.since,
          until: filter.until ? localValue(new Date(filter.until)) : values.until,
        },
        severities: SEVERITIES.map((s) => ({ value: s, label: s.toLowerCase(), checked: values.severities.includes(s) })),
        knownTypes: KNOWN_EVENT_TYPES,
        errors,
        invalid,
        hasFilter,
        actorName,
        events,
        totalCount: result?.totalCount ?? 0,
        hasNextPage: result?.pageInfo.hasNextPage ?? false,
        nextUrl: result?.pageInfo.endCursor ? `/admin/audit${pageQuery(values, { after: result.pageInfo.endCursor })}` : null,
        firstUrl: after ? `/admin/audit${pageQuery(values)}` : null,
        exportUrl: `/admin/audit/export${exportQuery(filter)}`,
        // The live view follows new events only on the first page, with the same filter.
        live: !invalid && !after,
        liveFilter: JSON.stringify(filter),
        nowUtc: localValue(new Date()).replace('T', ' '),
      },
      invalid ? 400 : 200,
    );
  });
}
