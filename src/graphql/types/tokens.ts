// Tokens: the Token node with its lineage (parent, children, the whole rotation family and where it
// came from), the admin `tokens` query, and the hold/revoke mutations. Token values and hashes are
// never exposed. The rules (what revoking takes with it, revoked is final) live in TokenAdminService.
import type { Token } from '../../db/client.js';
import { parseScope } from '../../domain/scopes.js';
import { ISSUE_ORDER, tokenFilterWhere, type TokenFilter } from '../../services/token-admin.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { registerUserOwnedNode } from '../node-access.js';
import { PAGE } from '../pagination.js';
import { ClientRef } from './clients.js';
import { UserRef } from './users.js';

const ADMIN = { admin: true } as const;

export const TokenCategoryEnum = builder.enumType('TokenCategory', {
  values: { ACCESS: { value: 'access' as const }, REFRESH: { value: 'refresh' as const } },
});

export const TokenStatusEnum = builder.enumType('TokenStatus', {
  description: 'ACTIVE tokens work until they expire; DISABLED ones are on hold (an admin can enable them again); REVOKED is final.',
  values: { ACTIVE: { value: 'active' as const }, DISABLED: { value: 'disabled' as const }, REVOKED: { value: 'revoked' as const } },
});

export const TokenRef = builder.prismaNode('Token', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  id: { field: 'id' },
  // Administrators see every token; a user sees their own (client-credentials tokens have no user).
  authScopes: (token) => ({ admin: true, self: token.userId ?? '' }),
  fields: (t) => ({
    category: t.expose('category', { type: TokenCategoryEnum }),
    status: t.expose('status', { type: TokenStatusEnum }),
    usable: t.boolean({
      description: 'ACTIVE and not expired: the token works right now (if its user and client are active too).',
      select: { status: true, expiresAt: true },
      resolve: (token) => token.status === 'active' && token.expiresAt > new Date(),
    }),
    scopes: t.stringList({ select: { scopes: true }, resolve: (token) => parseScope(token.scopes) }),
    audience: t.stringList({
      description: 'RFC 8707 resources the token is for; empty means this server.',
      select: { audience: true },
      resolve: (token) => parseScope(token.audience),
    }),
    grantType: t.exposeString('grantType', { description: 'The grant that issued it (authorization_code, refresh_token, device code, client_credentials).' }),
    client: t.relation('client'),
    user: t.relation('user', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    parent: t.relation('parent', {
      nullable: true,
      description: 'The token this one was issued from: the refresh token behind an access token or a rotated refresh token.',
    }),
    children: t.relation('children', { description: 'Tokens issued from this one, in issue order.', query: { orderBy: ISSUE_ORDER } }),
    familyId: t.exposeString('familyId', { description: 'Every token from one original grant shares it.' }),
    family: t.prismaField({
      // By name: the ref is still being defined here.
      type: ['Token'],
      description: 'Every token of the rotation family, in issue order (this one included).',
      select: { familyId: true },
      resolve: (query, token, _args, ctx) => ctx.db.token.findMany({ ...query, where: { familyId: token.familyId }, orderBy: ISSUE_ORDER }),
    }),
    sourceCode: t.exposeString('sourceCode', {
      nullable: true,
      description:
        'The id of the authorization code the tokens were issued from, on the tokens of the code exchange itself ' +
        '(later refreshes have none; their family leads back to it). Device-flow tokens do not record their device code.',
    }),
  }),
});

registerUserOwnedNode('Token', async (id, ctx) => (await ctx.db.token.findUnique({ where: { id }, select: { userId: true } }))?.userId);

const TokenFilterInput = builder.inputType('TokenFilter', {
  fields: (t) => ({
    userId: t.globalID({ for: UserRef }),
    clientId: t.globalID({ for: ClientRef }),
    category: t.field({ type: TokenCategoryEnum }),
    status: t.field({ type: TokenStatusEnum, description: 'ACTIVE means usable now: expired tokens are left out.' }),
  }),
});

type FilterArg = { userId?: { id: string } | null; clientId?: { id: string } | null; category?: TokenFilter['category'] | null; status?: TokenFilter['status'] | null } | null | undefined;

function toTokenFilter(filter: FilterArg): TokenFilter {
  return {
    userId: filter?.userId?.id,
    clientId: filter?.clientId?.id,
    category: filter?.category ?? undefined,
    status: filter?.status ?? undefined,
  };
}

builder.queryFields((t) => ({
  tokens: t.prismaConnection({
    type: TokenRef,
    cursor: 'id',
    authScopes: ADMIN,
    description: 'Issued tokens, newest first.',
    ...PAGE,
    args: { filter: t.arg({ type: TokenFilterInput }) },
    totalCount: (_parent, { filter }, ctx) => ctx.db.token.count({ where: tokenFilterWhere(toTokenFilter(filter)) }),
    resolve: (query, _root, { filter }, ctx) =>
      ctx.db.token.findMany({ ...query, where: tokenFilterWhere(toTokenFilter(filter)), orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),
  }, { name: 'TokenConnection' }, { name: 'TokenEdge' }),
}));

const TokenPayload = builder.objectRef<{ token: Token }>('TokenPayload').implement({
  fields: (t) => ({ token: t.field({ type: TokenRef, resolve: (p) => p.token }) }),
});

const RevokeTokenPayload = builder.objectRef<{ token: Token; tokensRevoked: number }>('RevokeTokenPayload').implement({
  fields: (t) => ({
    token: t.field({ type: TokenRef, resolve: (p) => p.token }),
    tokensRevoked: t.exposeInt('tokensRevoked', { description: 'How many tokens changed to REVOKED (a refresh token takes its family).' }),
  }),
});

const RevokeTokenFamilyPayload = builder.objectRef<{ familyId: string; tokensRevoked: number }>('RevokeTokenFamilyPayload').implement({
  fields: (t) => ({
    familyId: t.exposeString('familyId'),
    tokensRevoked: t.exposeInt('tokensRevoked'),
    family: t.prismaField({
      type: [TokenRef],
      resolve: (query, p, _args, ctx) => ctx.db.token.findMany({ ...query, where: { familyId: p.familyId }, orderBy: ISSUE_ORDER }),
    }),
  }),
});

builder.mutationFields((t) => {
  const tokenId = () => t.arg.globalID({ required: true, for: TokenRef });
  return {
    revokeToken: t.field({
      type: RevokeTokenPayload,
      description: 'Ends a token for good. A refresh token takes its family (the access tokens issued from it) along, as at /oauth/revoke.',
      authScopes: ADMIN,
      args: { id: tokenId() },
      resolve: (_root, { id }, ctx) => ctx.services.tokenAdmin.revoke(id.id, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    disableToken: t.field({
      type: TokenPayload,
      description: 'Puts a token on hold: it stops working until enabled again. Refused (CONFLICT) for a revoked token.',
      authScopes: ADMIN,
      args: { id: tokenId() },
      resolve: async (_root, { id }, ctx) => ({ token: await ctx.services.tokenAdmin.disable(id.id, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    enableToken: t.field({
      type: TokenPayload,
      description: 'Lifts a hold. A revoked token can never be enabled (CONFLICT).',
      authScopes: ADMIN,
      args: { id: tokenId() },
      resolve: async (_root, { id }, ctx) => ({ token: await ctx.services.tokenAdmin.enable(id.id, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    revokeTokenFamily: t.field({
      type: RevokeTokenFamilyPayload,
      description: 'Ends every token of the rotation family the given token belongs to: everything one leaked token spawned.',
      authScopes: ADMIN,
      args: { id: tokenId() },
      resolve: (_root, { id }, ctx) => ctx.services.tokenAdmin.revokeFamilyOf(id.id, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    revokeMyToken: t.field({
      type: RevokeTokenPayload,
      description: 'Ends one of your own tokens (a refresh token takes its family along). Another user’s token is NOT_FOUND.',
      authScopes: { authenticated: true },
      args: { id: tokenId() },
      resolve: (_root, { id }, ctx) => {
        const owner = ctx.viewer?.kind === 'user' ? ctx.viewer.user.id : '';
        return ctx.services.tokenAdmin.revoke(id.id, actorOf(ctx.viewer), ctx.requestInfo, { userId: owner });
      },
    }),
  };
});
