// Administrators' mutations on OAuth clients. Each calls one ClientAdminService (or RevocationService)
// method: validation, secrets and audit live there.
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { OAuthClient } from '../../db/client.js';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { ClientRef, ClientTypeEnum, TokenProfileEnum } from './clients.js';
import { DeletedPayload } from './user-mutations.js';

const ADMIN = { admin: true } as const;

const ClientPayload = builder.objectRef<{ client: OAuthClient; clientSecret?: string }>('ClientPayload').implement({
  fields: (t) => ({
    client: t.field({ type: ClientRef, resolve: (p) => p.client }),
    clientSecret: t.string({
      nullable: true,
      description: 'A newly generated client secret. Shown only in this response; it is stored hashed.',
      resolve: (p) => p.clientSecret ?? null,
    }),
  }),
});

const RevokeAllClientTokensPayload = builder
  .objectRef<{ client: OAuthClient; tokensRevoked: number; authorizationsRevoked: number }>('RevokeAllClientTokensPayload')
  .implement({
    fields: (t) => ({
      client: t.field({ type: ClientRef, resolve: (p) => p.client }),
      tokensRevoked: t.exposeInt('tokensRevoked'),
      authorizationsRevoked: t.exposeInt('authorizationsRevoked'),
    }),
  });

const settingsFields = (t: PothosSchemaTypes.InputFieldBuilder<typeof builder.$inferSchemaTypes, 'InputObject'>, create: boolean) => ({
  name: t.string({ required: create }),
  description: t.string(),
  clientType: t.field({ type: ClientTypeEnum, description: create ? 'Defaults to CONFIDENTIAL.' : undefined }),
  redirectUris: t.stringList({ description: 'Exact absolute URIs, compared as strings.' }),
  allowedScopes: t.stringList(),
  enableDeviceFlow: t.boolean(),
  enableAuthCodeFlow: t.boolean(),
  enableClientCredentials: t.boolean(),
  tokenProfile: t.field({ type: TokenProfileEnum }),
  active: t.boolean(),
  isServiceAccount: t.boolean({ description: 'Confidential clients with client credentials only: may call this API as an administrator.' }),
});

const CreateClientInput = builder.inputType('CreateClientInput', { fields: (t) => settingsFields(t, true) });
const UpdateClientInput = builder.inputType('UpdateClientInput', {
  description: 'Settings left out stay as they are.',
  fields: (t) => settingsFields(t, false),
});

builder.mutationFields((t) => {
  const clientId = () => t.arg.globalID({ required: true, for: ClientRef });
  return {
    createClient: t.field({
      type: ClientPayload,
      authScopes: ADMIN,
      args: { input: t.arg({ type: CreateClientInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.clientAdmin.create(input, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    updateClient: t.field({
      type: ClientPayload,
      authScopes: ADMIN,
      args: { id: clientId(), input: t.arg({ type: UpdateClientInput, required: true }) },
      resolve: (_root, { id, input }, ctx) => ctx.services.clientAdmin.update(id.id, input, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    deleteClient: t.field({
      type: DeletedPayload,
      authScopes: ADMIN,
      args: { id: clientId() },
      resolve: async (_root, { id }, ctx) => {
        await ctx.services.clientAdmin.delete(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { deletedId: encodeGlobalID('Client', id.id) };
      },
    }),
    rotateClientSecret: t.field({
      type: ClientPayload,
      description: 'A new secret; the old one stops working at once.',
      authScopes: ADMIN,
      args: { id: clientId() },
      resolve: (_root, { id }, ctx) => ctx.services.clientAdmin.rotateSecret(id.id, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    approveClient: t.field({
      type: ClientPayload,
      description: 'Approves a pending self-registered client, so it can obtain tokens.',
      authScopes: ADMIN,
      args: { id: clientId() },
      resolve: async (_root, { id }, ctx) => ({ client: await ctx.services.clientAdmin.approve(id.id, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    rejectClient: t.field({
      type: ClientPayload,
      description: 'Rejects a pending self-registered client.',
      authScopes: ADMIN,
      args: { id: clientId() },
      resolve: async (_root, { id }, ctx) => ({ client: await ctx.services.clientAdmin.reject(id.id, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    revokeAllClientTokens: t.field({
      type: RevokeAllClientTokensPayload,
      description: "Revokes every token the client holds and withdraws every user's consent to it.",
      authScopes: ADMIN,
      args: { id: clientId() },
      resolve: async (_root, { id }, ctx) => {
        const counts = await ctx.services.revocation.revokeAllForClient(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { client: await ctx.services.clientAdmin.find(id.id), ...counts };
      },
    }),
  };
});
