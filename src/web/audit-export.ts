// GET /admin/audit/export: the audit log as CSV for administrators, with the same filter as the
// GraphQL `auditEvents` query (as query parameters). Rows are read from the database a chunk at a
// time and only as fast as the client takes them (stream backpressure), so memory stays flat
// whatever the number of rows. csv-stringify does the quoting (and neutralises spreadsheet formulas)
// rather than hand-written escaping.
import type Router from '@koa/router';
import { stringify } from 'csv-stringify';
import type { Context } from 'koa';
import { Readable, pipeline } from 'node:stream';
import type { AuditEvent } from '../db/client.js';
import { BadInput } from '../domain/errors.js';
import { Severity } from '../generated/sqlite/enums.js';
import { decodeGlobalId } from '../graphql/global-id.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';
import type { AuditFilter, AuditQueryService } from '../services/audit-query.js';

// The export's published format, in this order; kept apart from the INSERT's column list
// (db/audit-batch.ts) so a storage change cannot silently change what downstream tools read.
const COLUMNS = [
  'id',
  'createdAt',
  'eventType',
  'severity',
  'success',
  'actorUserId',
  'actorUsername',
  'subjectType',
  'subjectId',
  'clientId',
  'ipAddress',
  'userAgent',
  'details',
] as const satisfies readonly (keyof AuditEvent)[];

const CHUNK_ROWS = 2000;

/** Decides whether the caller may export; answers the refusal itself and returns false. */
export type AdminGate = (ctx: Context) => Promise<boolean>;

export function auditExportRoutes(router: Router, deps: { auditQuery: AuditQueryService; requireAdmin: AdminGate; logger: Logger }): void {
  router.get('/admin/audit/export', async (ctx: Context) => {
    if (!(await deps.requireAdmin(ctx))) return;
    const filter = auditFilterFromQuery(ctx.query);
    const rows = Readable.from(deps.auditQuery.all(filter, CHUNK_ROWS));
    const csv = stringify({
      header: true,
      columns: [...COLUMNS],
      escape_formulas: true,
      cast: { date: (d) => d.toISOString(), boolean: (b) => (b ? 'true' : 'false') },
    });
    // pipeline destroys the CSV stream when reading fails, so the response ends instead of hanging.
    pipeline(rows, csv, (err) => {
      if (err && err.name !== 'AbortError' && (err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
        deps.logger.error('audit export failed', errorFields(err));
      }
    });
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Disposition', `attachment; filename="audit-events-${new Date().toISOString().replace(/[:.]/g, '-')}.csv"`);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = csv;
  });
}

type Query = Record<string, string | string[] | undefined>;

/** actorId as GraphQL gives it (a User global ID), or the plain user id. */
function userId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    const decoded = decodeGlobalId(value);
    if (decoded.typename === 'User') return decoded.id;
  } catch {
    // not a global ID: a plain id
  }
  return value;
}

/** The `auditEvents` filter from query parameters; lists as repeated parameters or comma-separated. */
export function auditFilterFromQuery(query: Query): AuditFilter {
  const list = (name: string) => {
    const raw = query[name];
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => v.split(','));
    return values.map((v) => v.trim()).filter((v) => v !== '');
  };
  const single = (name: string) => {
    const raw = query[name];
    if (Array.isArray(raw)) throw new BadInput(`${name} may be given only once`);
    return raw?.trim() || undefined;
  };
  const date = (name: string) => {
    const raw = single(name);
    if (raw === undefined) return undefined;
    const value = new Date(raw);
    if (Number.isNaN(value.getTime())) throw new BadInput(`${name} must be an ISO 8601 date and time`);
    return value;
  };
  const severities = list('severities');
  const unknown = severities.filter((s) => !(s in Severity));
  if (unknown.length > 0) throw new BadInput(`unknown severity: ${unknown.join(', ')} (use ${Object.keys(Severity).join(', ')})`);
  return {
    types: list('types'),
    severities: severities as Severity[],
    actorId: userId(single('actorId')),
    clientId: single('clientId'),
    since: date('since'),
    until: date('until'),
    search: single('search'),
  };
}
