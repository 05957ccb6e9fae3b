// Links between a user and an external sign-in provider (OAuthConnection).
import { builder } from '../builder.js';
import { registerOwnNode } from '../node-access.js';

export const OAuthConnectionRef = builder.prismaNode('OAuthConnection', {
  // node(id) of a row that does not exist (any more) is null, as relay expects, not an error.
  nullable: true,
  id: { field: 'id' },
  authScopes: (connection) => ({ admin: true, self: connection.userId }),
  fields: (t) => ({
    provider: t.exposeString('provider'),
    providerUserId: t.exposeString('providerUserId'),
    email: t.exposeString('email', { nullable: true }),
    displayName: t.exposeString('displayName', { nullable: true }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    user: t.relation('user'),
  }),
});

registerOwnNode('OAuthConnection', async (id, ctx) => {
  if (ctx.viewer?.kind !== 'user') return false;
  const connection = await ctx.db.oAuthConnection.findUnique({ where: { id }, select: { userId: true } });
  return connection?.userId === ctx.viewer.user.id;
});
