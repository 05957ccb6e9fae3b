// A person's own account on `viewer`: their browser sessions (this one marked), the apps they let in,
// their live tokens; and ending any of those, or changing their password. Also the admin
// counterparts for someone else's authorization or session. Rules and audit live in AccountService.
import { encodeGlobalID, resolveArrayConnection, type DefaultConnectionArguments } from '@pothos/plugin-relay';
import type { UserAuthorization } from '../../db/client.js';
import { Forbidden } from '../../domain/errors.js';
import { parseScope } from '../../domain/scopes.js';
import { authorizationInForce, RECENT_AUTHORIZATIONS, RECENT_TOKENS } from '../../services/account.js';
import type { SessionMeta } from '../../services/session-store.js';
import { builder } from '../builder.js';
import { actorOf, type GraphQLContext } from '../context.js';
import { registerUserOwnedNode } from '../node-access.js';
import { checkedPageSize, MAX_PAGE_SIZE, PAGE } from '../pagination.js';
import { ClientRef } from './clients.js';
import { TokenRef } from './tokens.js';
import { UserRef } from './users.js';
import { ViewerRef } from './viewer.js';

const ADMIN = { admin: true } as const;

// Sessions are served from the session store (the database or Redis, SESSION_STORE) through
// SessionService, whichever store it is: one code path, the same shapes.
export const SessionRef = builder.objectRef<SessionMeta>('Session');
builder.node(SessionRef, {
  id: { resolve: (session) => session.id },
  // node(id) of a session that does not exist (any more) is null, as relay expects, not an error.
  loadOne: (id, ctx: GraphQLContext) => ctx.services.sessions.find(id),
  authScopes: (session) => ({ admin: true, self: session.userId ?? '' }),
  fields: (t) => ({
    current: t.boolean({
      description: 'This is the browser session making the request.',
      resolve: (session, _args, ctx) => ctx.sessionId === session.id,
    }),
    ipAddress: t.exposeString('ipAddress', { nullable: true, description: 'Where the session started.' }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastSeenAt: t.expose('updatedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Ends then unless used again (idle timeout).' }),
    absoluteExpiresAt: t.expose('absoluteExpiresAt', { type: 'DateTime', description: 'Ends then at the latest.' }),
    user: t.prismaField({
      type: 'User',
      nullable: true,
      resolve: (query, session, _args, ctx) => (session.userId ? ctx.db.user.findUnique({ ...query, where: { id: session.userId } }) : null),
    }),
  }),
});

/** A user's sessions as a relay connection: they are few, so one list and offset cursors. */
async function sessionConnection(userId: string | null, args: DefaultConnectionArguments, ctx: GraphQLContext) {
  checkedPageSize(args);
  const sessions = userId ? await ctx.services.sessions.listForUser(userId) : [];
  const page = resolveArrayConnection({ args, ...PAGE, maxSize: MAX_PAGE_SIZE }, sessions);
  return { ...page, totalCount: sessions.length };
}

export const AuthorizationRef = builder.prismaNode('UserAuthorization', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  name: 'Authorization',
  id: { field: 'id' },
  authScopes: (authorization) => ({ admin: true, self: authorization.userId }),
  fields: (t) => ({
    scopes: t.stringList({ select: { scopes: true }, resolve: (a) => parseScope(a.scopes) }),
    grantedAt: t.expose('grantedAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    client: t.relation('client'),
    user: t.relation('user'),
  }),
});

registerUserOwnedNode('Session', async (id, ctx) => (await ctx.services.sessions.find(id))?.userId);
registerUserOwnedNode('Authorization', async (id, ctx) => (await ctx.db.userAuthorization.findUnique({ where: { id }, select: { userId: true } }))?.userId);

/** The signed-in user's id; a client acting for itself has no account. */
function ownUserId(ctx: GraphQLContext): string {
  if (ctx.viewer?.kind !== 'user') throw new Forbidden('a client acting for itself has no account');
  return ctx.viewer.user.id;
}

// Connections on `viewer`: empty for a client acting for itself.
builder.objectFields(ViewerRef, (t) => ({
  sessions: t.connection(
    {
      type: SessionRef,
      description: 'Browser sessions that have not ended, most recently used first; `current` marks this one.',
      resolve: (viewer, args, ctx) => sessionConnection(viewer.kind === 'user' ? viewer.user.id : null, args, ctx),
    },
    { name: 'ViewerSessionConnection', fields: (c) => ({ totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }) }) },
    { name: 'ViewerSessionEdge' },
  ),
  authorizations: t.prismaConnection({
    type: AuthorizationRef,
    cursor: 'id',
    description: 'Apps you let in (consent or device approval), with the scopes granted, most recent first.',
    ...PAGE,
    totalCount: (viewer, _args, ctx) =>
      viewer.kind === 'user' ? ctx.db.userAuthorization.count({ where: ctx.services.account.authorizationsWhere(viewer.user.id) }) : 0,
    resolve: (query, viewer, _args, ctx) =>
      viewer.kind === 'user'
        ? ctx.db.userAuthorization.findMany({ ...query, where: ctx.services.account.authorizationsWhere(viewer.user.id), orderBy: RECENT_AUTHORIZATIONS })
        : [],
  }, { name: 'ViewerAuthorizationConnection' }, { name: 'ViewerAuthorizationEdge' }),
  tokens: t.prismaConnection({
    type: TokenRef,
    cursor: 'id',
    description: 'Your tokens that work now (active, unexpired), newest first, with their client and last use.',
    ...PAGE,
    totalCount: (viewer, _args, ctx) => (viewer.kind === 'user' ? ctx.db.token.count({ where: ctx.services.account.tokensWhere(viewer.user.id) }) : 0),
    resolve: (query, viewer, _args, ctx) =>
      viewer.kind === 'user' ? ctx.db.token.findMany({ ...query, where: ctx.services.account.tokensWhere(viewer.user.id), orderBy: RECENT_TOKENS }) : [],
  }, { name: 'ViewerTokenConnection' }, { name: 'ViewerTokenEdge' }),
}));

const RevokeAuthorizationPayload = builder.objectRef<{ authorizationId: string; tokensRevoked: number }>('RevokeAuthorizationPayload').implement({
  fields: (t) => ({
    authorization: t.prismaField({
      type: AuthorizationRef,
      resolve: (query, p, _args, ctx) => ctx.db.userAuthorization.findUniqueOrThrow({ ...query, where: { id: p.authorizationId } }),
    }),
    tokensRevoked: t.exposeInt('tokensRevoked'),
  }),
});

const EndedSessionsPayload = builder.objectRef<{ sessionsEnded: number }>('EndedSessionsPayload').implement({
  fields: (t) => ({ sessionsEnded: t.exposeInt('sessionsEnded') }),
});

const RevokeSessionPayload = builder.objectRef<{ sessionId: string }>('RevokeSessionPayload').implement({
  fields: (t) => ({ revokedId: t.id({ description: 'The global ID of the ended session.', resolve: (p) => encodeGlobalID('Session', p.sessionId) }) }),
});

const RevokedTokensPayload = builder.objectRef<{ tokensRevoked: number }>('RevokedTokensPayload').implement({
  fields: (t) => ({ tokensRevoked: t.exposeInt('tokensRevoked', { description: 'How many tokens changed to REVOKED.' }) }),
});

const ChangeMyPasswordInput = builder.inputType('ChangeMyPasswordInput', {
  fields: (t) => ({
    currentPassword: t.string({ required: true }),
    newPassword: t.string({ required: true }),
  }),
});

builder.mutationFields((t) => {
  const authorizationId = () => t.arg.globalID({ required: true, for: AuthorizationRef });
  const sessionId = () => t.arg.globalID({ required: true, for: SessionRef });
  return {
    revokeMyAuthorization: t.field({
      type: RevokeAuthorizationPayload,
      description: 'Withdraws your consent to an app: its tokens for you stop working and it must ask again.',
      authScopes: { authenticated: true },
      args: { id: authorizationId() },
      resolve: async (_root, { id }, ctx) => {
        const { tokensRevoked } = await ctx.services.revocation.revokeUserAuthorization(ownUserId(ctx), id.id, ctx.requestInfo);
        return { authorizationId: id.id, tokensRevoked };
      },
    }),
    revokeMyTokens: t.field({
      type: RevokedTokensPayload,
      description:
        'Ends every token of yours that works now, or only those of one client (`clientId`); codes not yet exchanged go too. ' +
        'Your consents stay: the apps keep their permission but must sign you in again.',
      authScopes: { authenticated: true },
      args: { clientId: t.arg.globalID({ for: ClientRef, description: 'Only this client’s tokens.' }) },
      resolve: async (_root, { clientId }, ctx) => {
        const { tokensRevoked } = await ctx.services.revocation.revokeOwnTokens(ownUserId(ctx), clientId?.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { tokensRevoked };
      },
    }),
    revokeMySession: t.field({
      type: RevokeSessionPayload,
      description: 'Signs one of your browser sessions out.',
      authScopes: { authenticated: true },
      args: { id: sessionId() },
      resolve: async (_root, { id }, ctx) => {
        const userId = ownUserId(ctx);
        await ctx.services.account.revokeSession(id.id, actorOf(ctx.viewer), ctx.requestInfo, userId);
        return { sessionId: id.id };
      },
    }),
    revokeMyOtherSessions: t.field({
      type: EndedSessionsPayload,
      description: 'Signs out every browser session of yours but this one (all of them when called with a token).',
      authScopes: { authenticated: true },
      resolve: async (_root, _args, ctx) => ({
        sessionsEnded: await ctx.services.account.revokeOtherSessions(ownUserId(ctx), ctx.sessionId ?? undefined, actorOf(ctx.viewer), ctx.requestInfo),
      }),
    }),
    changeMyPassword: t.field({
      type: EndedSessionsPayload,
      description: 'Local accounts only. Needs the current password; signs out your other browser sessions.',
      authScopes: { authenticated: true },
      args: { input: t.arg({ type: ChangeMyPasswordInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.account.changePassword(ownUserId(ctx), input, ctx.sessionId ?? undefined, ctx.requestInfo),
    }),
    revokeAuthorization: t.field({
      type: RevokeAuthorizationPayload,
      description: "Withdraws a user's consent to an app, ending that app's tokens for the user.",
      authScopes: ADMIN,
      args: { id: authorizationId() },
      resolve: async (_root, { id }, ctx) => {
        const { authorization, tokensRevoked } = await ctx.services.account.revokeAuthorizationAsAdmin(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { authorizationId: (authorization as UserAuthorization).id, tokensRevoked };
      },
    }),
    revokeSession: t.field({
      type: RevokeSessionPayload,
      description: "Signs a user's browser session out.",
      authScopes: ADMIN,
      args: { id: sessionId() },
      resolve: async (_root, { id }, ctx) => {
        await ctx.services.account.revokeSession(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { sessionId: id.id };
      },
    }),
  };
});

// The same lists on a user, for administrators: what to end with revokeSession / revokeAuthorization.
builder.prismaObjectFields(UserRef, (t) => ({
  sessions: t.connection(
    {
      type: SessionRef,
      authScopes: ADMIN,
      description: "The user's browser sessions that have not ended, most recently used first.",
      resolve: (user, args, ctx) => sessionConnection(user.id, args, ctx),
    },
    { name: 'SessionConnection', fields: (c) => ({ totalCount: c.int({ resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount }) }) },
    { name: 'SessionEdge' },
  ),
  authorizations: t.relatedConnection('authorizations', {
    cursor: 'id',
    authScopes: ADMIN,
    description: 'Apps the user has let in and not withdrawn, most recent first.',
    ...PAGE,
    totalCount: true,
    query: () => ({ where: authorizationInForce, orderBy: RECENT_AUTHORIZATIONS }),
  }, { name: 'AuthorizationConnection' }, { name: 'AuthorizationEdge' }),
}));
