// `viewer`: who is calling. A signed-in user (browser session or user token) or a client acting for
// itself (client credentials, e.g. an admin service account). Other files add fields to Viewer.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import type { Viewer } from '../context.js';
import { ClientRef } from './clients.js';
import { RoleEnum, UserRef } from './users.js';

export const ViewerKindEnum = builder.enumType('ViewerKind', {
  values: { USER: { value: 'user' as const }, SERVICE_ACCOUNT: { value: 'client' as const } },
});

export const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  fields: (t) => ({
    id: t.id({
      description: 'The global ID of the user, or of the client acting for itself.',
      resolve: (viewer) => (viewer.kind === 'user' ? encodeGlobalID('User', viewer.user.id) : encodeGlobalID('Client', viewer.client.id)),
    }),
    kind: t.field({ type: ViewerKindEnum, resolve: (viewer) => viewer.kind }),
    username: t.string({
      description: "The user's username, or the client_id of a client acting for itself.",
      resolve: (viewer) => (viewer.kind === 'user' ? viewer.user.username : viewer.client.clientId),
    }),
    email: t.string({ nullable: true, resolve: (viewer) => (viewer.kind === 'user' ? viewer.user.email : null) }),
    fullName: t.string({ resolve: (viewer) => (viewer.kind === 'user' ? viewer.user.fullName : viewer.client.name) }),
    role: t.field({
      type: RoleEnum,
      description: 'ADMIN when the viewer has administrator rights in this request (see isAdmin).',
      resolve: (viewer) => (viewer.kind === 'user' ? viewer.user.role : viewer.isAdmin ? 'admin' : 'user'),
    }),
    isAdmin: t.boolean({
      description: 'Administrator rights in this request: the admin role, plus the admin scope when calling with a token.',
      resolve: (viewer) => viewer.isAdmin,
    }),
    scopes: t.stringList({ nullable: true, description: "The access token's scopes; null for a browser session.", resolve: (viewer) => viewer.scopes }),
    user: t.field({ type: UserRef, nullable: true, resolve: (viewer) => (viewer.kind === 'user' ? viewer.user : null) }),
    client: t.field({
      type: ClientRef,
      nullable: true,
      description: 'The client acting for itself, for a service account.',
      resolve: (viewer) => (viewer.kind === 'client' ? viewer.client : null),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: true,
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
);
