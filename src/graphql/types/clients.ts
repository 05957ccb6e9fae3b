// OAuth clients: the Client node and the `client` and `clients` queries. Mutations live in
// types/client-mutations.ts. Any signed-in viewer may see a client's public face (id, name,
// description, type) where another type links to it (e.g. the apps a user authorized); everything
// else about a client is for administrators.
import { parseScope } from '../../domain/scopes.js';
import { authorizationInForce, RECENT_AUTHORIZATIONS } from '../../services/account.js';
import { parseRedirectUris } from '../../services/clients.js';
import { builder } from '../builder.js';
import { PAGE } from '../pagination.js';

export const ClientTypeEnum = builder.enumType('ClientType', {
  values: { CONFIDENTIAL: { value: 'confidential' as const }, PUBLIC: { value: 'public' as const } },
});

export const TokenProfileEnum = builder.enumType('TokenProfile', {
  description: 'Token lifetimes: short, standard (the server defaults) or long.',
  values: { SHORT: { value: 'short' as const }, STANDARD: { value: 'standard' as const }, LONG: { value: 'long' as const } },
});

export const ApprovalStatusEnum = builder.enumType('ApprovalStatus', {
  description: 'Self-registered clients wait for an administrator; only approved clients obtain tokens.',
  values: { PENDING: { value: 'pending' as const }, APPROVED: { value: 'approved' as const }, REJECTED: { value: 'rejected' as const } },
});

const ADMIN = { admin: true } as const;

export const ClientRef = builder.prismaNode('OAuthClient', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  name: 'Client',
  id: { field: 'id' },
  authScopes: { authenticated: true },
  fields: (t) => ({
    clientId: t.exposeString('clientId', { description: 'The OAuth client_id.' }),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    clientType: t.expose('clientType', { type: ClientTypeEnum }),
    redirectUris: t.stringList({ authScopes: ADMIN, select: { redirectUris: true }, resolve: (client) => parseRedirectUris(client) }),
    allowedScopes: t.stringList({ authScopes: ADMIN, select: { allowedScopes: true }, resolve: (client) => parseScope(client.allowedScopes) }),
    enableDeviceFlow: t.exposeBoolean('enableDeviceFlow', { authScopes: ADMIN }),
    enableAuthCodeFlow: t.exposeBoolean('enableAuthCodeFlow', { authScopes: ADMIN }),
    enableClientCredentials: t.exposeBoolean('enableClientCredentials', { authScopes: ADMIN }),
    tokenProfile: t.expose('tokenProfile', { type: TokenProfileEnum, authScopes: ADMIN }),
    active: t.exposeBoolean('active', { authScopes: ADMIN }),
    approvalStatus: t.expose('approvalStatus', { type: ApprovalStatusEnum, authScopes: ADMIN }),
    isServiceAccount: t.exposeBoolean('isServiceAccount', {
      authScopes: ADMIN,
      description: 'May use client credentials with the admin scope to call this API as an administrator.',
    }),
    hasSecret: t.boolean({ authScopes: ADMIN, select: { clientSecretHash: true }, resolve: (client) => client.clientSecretHash !== null }),
    createdBy: t.relation('createdBy', { nullable: true, authScopes: ADMIN }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', authScopes: ADMIN }),
    activeTokenCount: t.int({
      authScopes: ADMIN,
      description: 'Active, unexpired tokens held by this client.',
      resolve: (client, _args, ctx) => ctx.loaders.activeTokensOfClient.load(client.id),
    }),
    // The Authorization type is registered in types/account.ts; the connection loads its page (with
    // user and client, when asked) in the client's own query, not one query per row.
    authorizations: t.relatedConnection(
      'authorizations',
      {
        cursor: 'id',
        authScopes: ADMIN,
        description: 'Users who let this client in and have not withdrawn it, most recent first (end one with revokeAuthorization).',
        ...PAGE,
        totalCount: true,
        query: () => ({ where: authorizationInForce, orderBy: RECENT_AUTHORIZATIONS }),
      },
      { name: 'ClientAuthorizationConnection' },
      { name: 'ClientAuthorizationEdge' },
    ),
  }),
});

const ClientFilter = builder.inputType('ClientFilter', {
  fields: (t) => ({
    search: t.string({ description: 'Part of the name, client_id or description.' }),
    type: t.field({ type: ClientTypeEnum }),
    active: t.boolean(),
    status: t.field({ type: ApprovalStatusEnum }),
    statuses: t.field({
      type: [ApprovalStatusEnum],
      description: 'Any of these approval statuses (e.g. all but PENDING, for a list that shows pending clients apart).',
    }),
  }),
});

builder.queryFields((t) => ({
  client: t.prismaField({
    type: ClientRef,
    nullable: true,
    authScopes: ADMIN,
    args: { id: t.arg.globalID({ required: true, for: ClientRef }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.clientAdmin.find(id.id, query),
  }),
  clients: t.prismaConnection(
    {
    type: ClientRef,
    cursor: 'id',
    authScopes: ADMIN,
    ...PAGE,
    args: { filter: t.arg({ type: ClientFilter }) },
    totalCount: (_parent, { filter }, ctx) => ctx.db.oAuthClient.count({ where: ctx.services.clientAdmin.where(filter ?? {}) }),
    resolve: (query, _root, { filter }, ctx) =>
      ctx.db.oAuthClient.findMany({ ...query, where: ctx.services.clientAdmin.where(filter ?? {}), orderBy: [{ name: 'asc' }, { id: 'asc' }] }),
    },
    { name: 'ClientConnection' },
    { name: 'ClientEdge' },
  ),
}));
