// The SchemaBuilder and its plugins, and nothing else. Types register themselves in types/<domain>.ts.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError } from 'graphql';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import type { GraphQLContext } from './context.js';
import { NotFound } from '../domain/errors.js';
import { decodeGlobalId } from './global-id.js';
import { authorizeNode } from './node-access.js';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: {
    /** Any caller with a viewer (session or valid token). */
    authenticated: boolean;
    /** Admin rights: see Viewer.isAdmin. */
    admin: boolean;
    /** The viewer is this user (own data). */
    self: string;
  };
  Scalars: { DateTime: { Input: Date; Output: Date } };
  // Non-null unless a field says otherwise: what the schema promises, clients need not null-check.
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  // Scope auth first, so its checks wrap every other plugin's resolvers.
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      admin: ctx.viewer?.isAdmin === true,
      self: (userId: string) => ctx.viewer?.kind === 'user' && ctx.viewer.user.id === userId,
    }),
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer
        ? new GraphQLError('You are not allowed to do this.', { extensions: { code: 'FORBIDDEN' } })
        : new GraphQLError('Sign in or send a valid access token.', { extensions: { code: 'UNAUTHENTICATED' } }),
  },
  prisma: {
    client: (ctx) => ctx.db,
    dmmf: getDatamodel(),
    // totalCount is only queried when asked for.
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    decodeGlobalID: (globalID) => decodeGlobalId(globalID),
    nodeQueryOptions: {
      resolve: async (_root, { id }, ctx, _info, resolveNode) => {
        await authorizeNode(id, ctx);
        const node = await resolveNode(id);
        if (!node) throw new NotFound(`no ${id.typename} with this id`);
        return node;
      },
    },
    // One way in (node), with one access rule.
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC.',
  serialize: (value) => value.toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string', { extensions: { code: 'BAD_USER_INPUT' } });
    return date;
  },
});
