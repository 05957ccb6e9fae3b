// One multi-row INSERT for a batch of audit events. Prisma's createMany costs about 0.3 ms per row on
// these machines (32 ms for 100 rows, SQLite and PostgreSQL alike); a single parameterised INSERT
// writes the same 100 rows in 5–7 ms. The audit log writes in bulk on every request, so it gets
// this (and so does the issuance group commit, db/issuance-writer.ts, which shares these columns);
// everything else goes through Prisma's API.
import { timeOrderedId } from '../domain/ids.js';
import type { Db, Prisma } from './client.js';

type Dialect = 'sqlite' | 'postgresql';
type Row = Prisma.AuditEventCreateManyInput;

/** audit_events' columns, in the order every audit INSERT binds them (here and db/issuance-writer.ts). */
export const AUDIT_COLUMNS = [
  'id',
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
  'createdAt',
] as const satisfies readonly (keyof Row)[];

/** Each column's PostgreSQL type, for statements that bind a whole column as one array (unnest). */
export const AUDIT_PG_TYPES: Record<(typeof AUDIT_COLUMNS)[number], string> = {
  id: 'text',
  eventType: 'text',
  severity: '"Severity"',
  success: 'boolean',
  actorUserId: 'text',
  actorUsername: 'text',
  subjectType: 'text',
  subjectId: 'text',
  clientId: 'text',
  ipAddress: 'text',
  userAgent: 'text',
  details: 'text',
  createdAt: 'timestamp(3)',
};

// PostgreSQL needs the enum column's type named; SQLite stores it as text.
const PG_CASTS: Partial<Record<(typeof AUDIT_COLUMNS)[number], string>> = { severity: `::${AUDIT_PG_TYPES.severity}` };

// How many values one statement may bind: SQLITE_MAX_VARIABLE_NUMBER as compiled into the SQLite that
// better-sqlite3 bundles (32766, the default since SQLite 3.32), and PostgreSQL's wire protocol, which
// counts parameters in a 16-bit field (65535). A bigger INSERT fails outright, whatever the data.
const MAX_BOUND_PARAMETERS: Record<Dialect, number> = { sqlite: 32_766, postgresql: 65_535 };

/** The most audit rows one INSERT can carry on this dialect (2520 on SQLite, 5041 on PostgreSQL). */
export function maxAuditRowsPerStatement(dialect: Dialect): number {
  return Math.floor(MAX_BOUND_PARAMETERS[dialect] / AUDIT_COLUMNS.length);
}

/** A row's values in AUDIT_COLUMNS order (a missing id gets one; absent fields are NULL). */
export function auditRowValues(row: Row): unknown[] {
  return AUDIT_COLUMNS.map((column) => (column === 'id' ? (row.id ?? timeOrderedId()) : (row[column] ?? null)));
}

/** One INSERT for `rows`; callers chunk to maxAuditRowsPerStatement(dialect). */
export async function insertAuditBatch(db: Db, dialect: Dialect, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const max = maxAuditRowsPerStatement(dialect);
  if (rows.length > max) throw new RangeError(`${rows.length} audit rows exceed the ${max} one ${dialect} statement can bind`);
  const params: unknown[] = [];
  const tuples: string[] = [];
  for (const row of rows) {
    const placeholders = auditRowValues(row).map((value, i) => {
      params.push(value);
      const column = AUDIT_COLUMNS[i]!;
      return dialect === 'postgresql' ? `$${params.length}${PG_CASTS[column] ?? ''}` : '?';
    });
    tuples.push(`(${placeholders.join(', ')})`);
  }
  const columns = AUDIT_COLUMNS.map((c) => `"${c}"`).join(', ');
  await db.$executeRawUnsafe(`INSERT INTO "audit_events" (${columns}) VALUES ${tuples.join(', ')}`, ...params);
}
