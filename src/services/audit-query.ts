// Reading the audit log: one filter, applied the same way to a page of the log (GraphQL), a streamed
// export (CSV) and the live stream (events just written, matched in memory). Pages are newest first
// and use keyset cursors on (createdAt, id), so events written while someone pages through the log
// never shift, repeat or hide the rows they have not reached yet.
import type { AuditEvent, Db, Prisma } from '../db/client.js';
import { BadInput } from '../domain/errors.js';
import type { Severity } from '../generated/sqlite/enums.js';

export interface AuditFilter {
  types?: string[];
  severities?: Severity[];
  /** The acting user's id. */
  actorId?: string;
  /** The public OAuth client_id the event concerns. */
  clientId?: string;
  since?: Date;
  until?: Date;
  /** Substring of the event type, actor name, subject, client, address or details. */
  search?: string;
}

/** The fields of an event the filter looks at: a stored row or one just written. */
export type AuditFilterable = Pick<
  AuditEvent,
  'eventType' | 'severity' | 'actorUserId' | 'actorUsername' | 'subjectId' | 'clientId' | 'ipAddress' | 'details' | 'createdAt'
>;

export interface AuditPage {
  events: AuditEvent[];
  hasNextPage: boolean;
}

const MAX_SEARCH_LENGTH = 200;

export function auditFilterWhere(filter: AuditFilter): Prisma.AuditEventWhereInput {
  const and: Prisma.AuditEventWhereInput[] = [];
  if (filter.types?.length) and.push({ eventType: { in: filter.types } });
  if (filter.severities?.length) and.push({ severity: { in: filter.severities } });
  if (filter.actorId) and.push({ actorUserId: filter.actorId });
  if (filter.clientId) and.push({ clientId: filter.clientId });
  if (filter.since) and.push({ createdAt: { gte: filter.since } });
  if (filter.until) and.push({ createdAt: { lt: filter.until } });
  const search = normalizedSearch(filter.search);
  if (search) {
    and.push({
      OR: [
        { eventType: { contains: search } },
        { actorUsername: { contains: search } },
        { subjectId: { contains: search } },
        { clientId: { contains: search } },
        { ipAddress: { contains: search } },
        { details: { contains: search } },
      ],
    });
  }
  return and.length > 0 ? { AND: and } : {};
}

/** The same filter, for an event already in memory (the live stream). */
export function matchesAuditFilter(filter: AuditFilter, event: AuditFilterable): boolean {
  if (filter.types?.length && !filter.types.includes(event.eventType)) return false;
  if (filter.severities?.length && !filter.severities.includes(event.severity)) return false;
  if (filter.actorId && event.actorUserId !== filter.actorId) return false;
  if (filter.clientId && event.clientId !== filter.clientId) return false;
  if (filter.since && event.createdAt < filter.since) return false;
  if (filter.until && event.createdAt >= filter.until) return false;
  const search = normalizedSearch(filter.search);
  if (search) {
    const fields = [event.eventType, event.actorUsername, event.subjectId, event.clientId, event.ipAddress, event.details];
    if (!fields.some((f) => f?.includes(search))) return false;
  }
  return true;
}

function normalizedSearch(search: string | undefined): string | undefined {
  const trimmed = search?.trim();
  if (!trimmed) return undefined;
  if (trimmed.length > MAX_SEARCH_LENGTH) throw new BadInput(`search is longer than ${MAX_SEARCH_LENGTH} characters`);
  return trimmed;
}

/** Opaque to callers; (createdAt, id) of the last row seen. */
export function auditCursor(event: Pick<AuditEvent, 'createdAt' | 'id'>): string {
  return Buffer.from(`${event.createdAt.getTime()}:${event.id}`).toString('base64url');
}

function parseCursor(cursor: string): { createdAt: Date; id: string } {
  const [ms, id] = Buffer.from(cursor, 'base64url').toString().split(':', 2);
  const time = Number(ms);
  if (!id || !Number.isSafeInteger(time)) throw new BadInput('the cursor is not valid');
  return { createdAt: new Date(time), id };
}

/**
 * Rows strictly after the cursor in newest-first order. Written as a range on createdAt (which the
 * index serves) minus the cursor's own millisecond at or above its id, rather than an OR, which made
 * both databases scan from the top for every page.
 */
function afterCursor(cursor: { createdAt: Date; id: string }): Prisma.AuditEventWhereInput {
  return { createdAt: { lte: cursor.createdAt }, NOT: { createdAt: cursor.createdAt, id: { gte: cursor.id } } };
}

const NEWEST_FIRST: Prisma.AuditEventOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { id: 'desc' }];

export class AuditQueryService {
  constructor(private readonly db: Db) {}

  async page(filter: AuditFilter, opts: { first: number; after?: string | null }): Promise<AuditPage> {
    const where = auditFilterWhere(filter);
    const rows = await this.db.auditEvent.findMany({
      where: opts.after ? { AND: [where, afterCursor(parseCursor(opts.after))] } : where,
      orderBy: NEWEST_FIRST,
      take: opts.first + 1,
    });
    return { events: rows.slice(0, opts.first), hasNextPage: rows.length > opts.first };
  }

  count(filter: AuditFilter): Promise<number> {
    return this.db.auditEvent.count({ where: auditFilterWhere(filter) });
  }

  /**
   * Every matching event, newest first, read `chunkSize` rows at a time: memory stays bounded by one
   * chunk whatever the total, and the next chunk is read only when the consumer asks for it.
   */
  async *all(filter: AuditFilter, chunkSize = 1000): AsyncGenerator<AuditEvent> {
    const where = auditFilterWhere(filter);
    let last: AuditEvent | undefined;
    for (;;) {
      const rows: AuditEvent[] = await this.db.auditEvent.findMany({
        where: last ? { AND: [where, afterCursor(last)] } : where,
        orderBy: NEWEST_FIRST,
        take: chunkSize,
      });
      yield* rows;
      if (rows.length < chunkSize) return;
      last = rows[rows.length - 1];
    }
  }
}
