// The audit log: the AuditEvent node, the admin `auditEvents` query (newest first, keyset cursors
// that stay put while events arrive) and the `auditEvents` subscription (Server-Sent Events).
//
// Who sees what on the subscription: administrators (and admin service accounts) every event; any
// other signed-in user only the events they did themselves (actor = them), e.g. their own sign-ins
// and revocations. A client without admin rights has no account and is refused.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AuditEvent } from '../../db/client.js';
import { BadInput, Forbidden, NotFound } from '../../domain/errors.js';
import { Severity } from '../../generated/sqlite/enums.js';
import { auditCursor, matchesAuditFilter, type AuditFilter } from '../../services/audit-query.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { codedError } from '../errors.js';
import { registerUserOwnedNode } from '../node-access.js';
import { checkedPageSize, DEFAULT_PAGE_SIZE } from '../pagination.js';
import { UserRef } from './users.js';

export const SeverityEnum = builder.enumType('Severity', {
  values: Object.fromEntries(Object.values(Severity).map((s) => [s, { value: s }])) as { [K in Severity]: { value: K } },
});

export const AuditEventRef = builder.prismaNode('AuditEvent', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  id: { field: 'id' },
  authScopes: (event) => ({ admin: true, self: event.actorUserId ?? '' }),
  fields: (t) => ({
    eventType: t.exposeString('eventType'),
    severity: t.expose('severity', { type: SeverityEnum }),
    success: t.exposeBoolean('success'),
    actorId: t.id({
      nullable: true,
      description: 'Global ID of the user who acted (the user may since have been deleted).',
      resolve: (event) => (event.actorUserId ? encodeGlobalID('User', event.actorUserId) : null),
    }),
    actorUsername: t.exposeString('actorUsername', { nullable: true, description: 'As it was when the event happened; `client:<client_id>` for a service account.' }),
    subjectType: t.exposeString('subjectType', { nullable: true }),
    subjectId: t.exposeString('subjectId', { nullable: true, description: 'The database id of the subject (not a global ID: the subject may be gone).' }),
    clientId: t.exposeString('clientId', { nullable: true, description: 'The OAuth client_id involved.' }),
    ipAddress: t.exposeString('ipAddress', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    details: t.exposeString('details', { description: 'A JSON object; credentials are masked before storing.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

registerUserOwnedNode('AuditEvent', async (id, ctx) => (await ctx.db.auditEvent.findUnique({ where: { id }, select: { actorUserId: true } }))?.actorUserId);

const AuditFilterInput = builder.inputType('AuditEventFilter', {
  fields: (t) => ({
    types: t.stringList({ description: 'Event types, e.g. AUTHENTICATION_FAILURE.' }),
    severities: t.field({ type: [SeverityEnum] }),
    actorId: t.globalID({ for: UserRef, description: 'The user who acted.' }),
    clientId: t.string({ description: 'The OAuth client_id involved.' }),
    since: t.field({ type: 'DateTime', description: 'From this instant (inclusive).' }),
    until: t.field({ type: 'DateTime', description: 'Before this instant (exclusive).' }),
    search: t.string({ description: 'Part of the event type, actor name, subject, client_id, address or details.' }),
  }),
});

type FilterArg = {
  types?: string[] | null;
  severities?: Severity[] | null;
  actorId?: { id: string } | null;
  clientId?: string | null;
  since?: Date | null;
  until?: Date | null;
  search?: string | null;
} | null | undefined;

function toAuditFilter(filter: FilterArg): AuditFilter {
  return {
    types: filter?.types ?? undefined,
    severities: filter?.severities ?? undefined,
    actorId: filter?.actorId?.id,
    clientId: filter?.clientId ?? undefined,
    since: filter?.since ?? undefined,
    until: filter?.until ?? undefined,
    search: filter?.search ?? undefined,
  };
}

/** What a subscriber may receive: everything for administrators, their own actions for users. */
function visibleFilter(filter: AuditFilter, ctx: GraphQLContext): AuditFilter {
  const viewer = ctx.viewer;
  // Checked here as well as by the field's scope: the subscription's source runs before its resolver.
  if (!viewer) throw codedError('Sign in or send a valid access token.', 'UNAUTHENTICATED');
  if (viewer.isAdmin) return filter;
  if (viewer.kind !== 'user') throw new Forbidden('only administrators and signed-in users can follow the audit log');
  // Someone else's events are NOT_FOUND, as their nodes are, so ids cannot be probed.
  if (filter.actorId && filter.actorId !== viewer.user.id) throw new NotFound('no User with this id');
  return { ...filter, actorId: viewer.user.id };
}

builder.queryFields((t) => ({
  auditEvents: t.connection(
    {
      type: AuditEventRef,
      authScopes: { admin: true },
      description: 'The audit log, newest first. Cursors stay valid while new events are written.',
      args: { filter: t.arg({ type: AuditFilterInput }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) throw new BadInput('the audit log pages forward only: use first and after');
        checkedPageSize(args);
        const filter = toAuditFilter(args.filter);
        const { events, hasNextPage } = await ctx.services.auditQuery.page(filter, { first: args.first ?? DEFAULT_PAGE_SIZE, after: args.after });
        const edges = events.map((event) => ({ cursor: auditCursor(event), node: event }));
        return {
          filter,
          edges,
          pageInfo: { hasNextPage, hasPreviousPage: args.after != null, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
        };
      },
    },
    {
      name: 'AuditEventConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'Events matching the filter (counted only when asked for).',
          resolve: (connection, _args, ctx) => ctx.services.auditQuery.count((connection as unknown as { filter: AuditFilter }).filter),
        }),
      }),
    },
    { name: 'AuditEventEdge' },
  ),
}));

builder.subscriptionType({});

builder.subscriptionField('auditEvents', (t) =>
  t.field({
    type: AuditEventRef,
    description:
      'Audit events as they are written, on any instance (Server-Sent Events). Administrators receive every event, other users the events where they are the actor.',
    authScopes: { authenticated: true },
    args: { filter: t.arg({ type: AuditFilterInput }) },
    subscribe: (_root, args, ctx) => matching(ctx.auditStream.subscribe(), visibleFilter(toAuditFilter(args.filter), ctx), ctx),
    resolve: (event: AuditEvent) => event,
  }),
);

// How stale the "is the caller still allowed" answer may be before an event is sent.
const RECHECK_MS = 2000;

/**
 * The events this subscriber may see. The caller's token or session is checked again before sending
 * (at most every RECHECK_MS): once it is revoked, expired or ended, or the user disabled, the stream ends.
 */
async function* matching(events: AsyncIterable<AuditEvent>, filter: AuditFilter, ctx: GraphQLContext): AsyncGenerator<AuditEvent> {
  let checkedAt = Date.now();
  for await (const event of events) {
    if (!matchesAuditFilter(filter, event)) continue;
    if (Date.now() - checkedAt > RECHECK_MS) {
      if (!(await ctx.viewerStillValid())) return;
      checkedAt = Date.now();
    }
    yield event;
  }
}
