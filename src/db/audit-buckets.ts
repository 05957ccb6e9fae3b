// Counts of audit events per time bucket, grouped in SQL so a dashboard's series costs one query
// whatever the number of events in the window. Prisma's groupBy cannot group by a computed time
// bucket or a JSON member, so this is raw SQL, one expression per dialect.
import type { Db } from './client.js';

type Dialect = 'sqlite' | 'postgresql';

export interface BucketCount {
  bucket: number;
  eventType: string;
  /** `details.grant_type` of the event, when it has one. */
  grantType: string | null;
  count: number;
}

// SQLite keeps DateTime as ISO-8601 text with an offset; julianday() reads it. PostgreSQL's column is
// a timestamp without zone holding UTC, whose epoch is therefore UTC seconds.
const EPOCH_MS: Record<Dialect, string> = {
  sqlite: `((julianday("createdAt") - 2440587.5) * 86400000.0)`,
  postgresql: `(EXTRACT(EPOCH FROM "createdAt") * 1000)`,
};
const GRANT_TYPE: Record<Dialect, string> = {
  sqlite: `json_extract("details", '$.grant_type')`,
  postgresql: `("details"::jsonb ->> 'grant_type')`,
};

export async function countAuditEventsPerBucket(
  db: Db,
  dialect: Dialect,
  opts: { eventTypes: string[]; since: Date; until: Date; bucketMs: number },
): Promise<BucketCount[]> {
  if (opts.eventTypes.length === 0) return [];
  const p = (n: number) => (dialect === 'postgresql' ? `$${n}` : '?');
  const types = opts.eventTypes.map((_, i) => p(i + 5)).join(', ');
  // Parameters: 1 since (ms), 2 bucket (ms), 3 since, 4 until, then the event types.
  const bucket =
    dialect === 'postgresql'
      ? `FLOOR((${EPOCH_MS.postgresql} - ${p(1)}::double precision) / ${p(2)}::double precision)::int`
      : `CAST((${EPOCH_MS.sqlite} - ${p(1)}) / ${p(2)} AS INTEGER)`;
  const sql =
    `SELECT ${bucket} AS "bucket", "eventType", ${GRANT_TYPE[dialect]} AS "grantType", COUNT(*) AS "count" ` +
    `FROM "audit_events" WHERE "createdAt" >= ${p(3)} AND "createdAt" < ${p(4)} AND "eventType" IN (${types}) ` +
    `GROUP BY 1, 2, 3`;
  const rows = await db.$queryRawUnsafe<{ bucket: number | bigint; eventType: string; grantType: string | null; count: number | bigint }[]>(
    sql,
    opts.since.getTime(),
    opts.bucketMs,
    opts.since,
    opts.until,
    ...opts.eventTypes,
  );
  return rows.map((r) => ({ bucket: Number(r.bucket), eventType: r.eventType, grantType: r.grantType, count: Number(r.count) }));
}
