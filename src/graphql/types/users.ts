// Users: the User node, the `user` and `users` queries. Mutations live in types/user-mutations.ts.
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { registerOwnNode } from '../node-access.js';
import { PAGE } from '../pagination.js';

/** Tokens that still work: counted on users and clients. */

export const RoleEnum = builder.enumType('Role', {
  values: { ADMIN: { value: 'admin' as const }, USER: { value: 'user' as const } },
});

export const UserRef = builder.prismaNode('User', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  id: { field: 'id' },
  // Administrators see everyone; a user sees themself. Queries return NOT_FOUND before this is reached.
  authScopes: (user) => ({ admin: true, self: user.id }),
  fields: (t) => ({
    username: t.exposeString('username'),
    email: t.exposeString('email', { nullable: true }),
    fullName: t.exposeString('fullName'),
    role: t.expose('role', { type: RoleEnum }),
    active: t.exposeBoolean('active'),
    authSource: t.exposeString('authSource', { description: '"local" for a password kept here, otherwise the sign-in source.' }),
    emailVerified: t.exposeBoolean('emailVerified'),
    hasPassword: t.boolean({ select: { passwordHash: true }, resolve: (user) => user.passwordHash !== null }),
    lastLoginAt: t.expose('lastLoginAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    activeTokenCount: t.int({
      description: 'Active, unexpired access and refresh tokens of this user.',
      resolve: (user, _args, ctx) => ctx.loaders.activeTokensOfUser.load(user.id),
    }),
    connections: t.relatedConnection('connections', { cursor: 'id', totalCount: true, ...PAGE }, { name: 'OAuthConnectionConnection' }, { name: 'OAuthConnectionEdge' }),
  }),
});

registerOwnNode('User', (id, ctx) => ctx.viewer?.kind === 'user' && ctx.viewer.user.id === id);

const UserFilter = builder.inputType('UserFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Part of the username, email or full name.' }),
    role: t.field({ type: RoleEnum }),
    active: t.boolean(),
    authSource: t.string(),
  }),
});

builder.queryFields((t) => ({
  user: t.prismaField({
    type: UserRef,
    nullable: true,
    description: 'A user by ID. Users other than administrators may only ask for themselves.',
    authScopes: { authenticated: true },
    args: { id: t.arg.globalID({ required: true, for: UserRef }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.userAdmin.findVisible(actorOf(ctx.viewer), id.id, query),
  }),
  users: t.prismaConnection(
    {
    type: UserRef,
    cursor: 'id',
    authScopes: { admin: true },
    ...PAGE,
    args: { filter: t.arg({ type: UserFilter }) },
    totalCount: (_parent, { filter }, ctx) => ctx.db.user.count({ where: ctx.services.userAdmin.where(filter ?? {}) }),
    resolve: (query, _root, { filter }, ctx) => ctx.db.user.findMany({ ...query, where: ctx.services.userAdmin.where(filter ?? {}), orderBy: { username: 'asc' } }),
    },
    { name: 'UserConnection' },
    { name: 'UserEdge' },
  ),
}));
