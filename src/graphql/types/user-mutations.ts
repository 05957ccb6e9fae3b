// Administrators' mutations on users. Each calls one UserAdminService method: the rules (self-disable,
// last admin, local passwords only) and the audit live there.
import type { User } from '../../db/client.js';
import { encodeGlobalID as encodeId } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { actorOf } from '../context.js';
import { OAuthConnectionRef } from './connections.js';
import { RoleEnum, UserRef } from './users.js';

const ADMIN = { admin: true } as const;

const UserPayload = builder.objectRef<{ user: User }>('UserPayload').implement({
  fields: (t) => ({ user: t.field({ type: UserRef, resolve: (p) => p.user }) }),
});

const CreateUserPayload = builder.objectRef<{ user: User; generatedPassword?: string }>('CreateUserPayload').implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    generatedPassword: t.string({
      nullable: true,
      description: 'The generated password when none was given. Shown only in this response; it is stored hashed.',
      resolve: (p) => p.generatedPassword ?? null,
    }),
  }),
});

const DisableUserPayload = builder.objectRef<{ user: User; tokensRevoked: number; sessionsEnded: number }>('DisableUserPayload').implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    tokensRevoked: t.exposeInt('tokensRevoked'),
    sessionsEnded: t.exposeInt('sessionsEnded'),
  }),
});

const ResetUserPasswordPayload = builder.objectRef<{ user: User; password: string }>('ResetUserPasswordPayload').implement({
  fields: (t) => ({
    user: t.field({ type: UserRef, resolve: (p) => p.user }),
    password: t.exposeString('password', { description: 'The new password. Shown only in this response; it is stored hashed.' }),
  }),
});

const DeletedPayload = builder.objectRef<{ deletedId: string }>('DeletedPayload').implement({
  fields: (t) => ({ deletedId: t.exposeID('deletedId', { description: 'The global ID of what was deleted.' }) }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    username: t.string({ required: true }),
    email: t.string(),
    fullName: t.string(),
    role: t.field({ type: RoleEnum, description: 'Defaults to USER.' }),
    password: t.string({ description: 'Leave out to have one generated and returned once.' }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description: 'Fields left out stay as they are. An empty email removes it.',
  fields: (t) => ({
    username: t.string(),
    email: t.string(),
    fullName: t.string(),
    emailVerified: t.boolean(),
  }),
});

builder.mutationFields((t) => {
  const userId = () => t.arg.globalID({ required: true, for: UserRef });
  return {
    createUser: t.field({
      type: CreateUserPayload,
      authScopes: ADMIN,
      args: { input: t.arg({ type: CreateUserInput, required: true }) },
      resolve: (_root, { input }, ctx) => ctx.services.userAdmin.create(input, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    updateUser: t.field({
      type: UserPayload,
      authScopes: ADMIN,
      args: { id: userId(), input: t.arg({ type: UpdateUserInput, required: true }) },
      resolve: async (_root, { id, input }, ctx) => ({ user: await ctx.services.userAdmin.update(id.id, input, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    deleteUser: t.field({
      type: DeletedPayload,
      authScopes: ADMIN,
      args: { id: userId() },
      resolve: async (_root, { id }, ctx) => {
        await ctx.services.userAdmin.delete(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { deletedId: encodeId('User', id.id) };
      },
    }),
    disableUser: t.field({
      type: DisableUserPayload,
      description: "Signs the user out everywhere and revokes their tokens for good. Refused for yourself and for the last active administrator.",
      authScopes: ADMIN,
      args: { id: userId() },
      resolve: (_root, { id }, ctx) => ctx.services.userAdmin.disable(id.id, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    enableUser: t.field({
      type: UserPayload,
      description: 'Lets the user sign in again; tokens revoked when they were disabled stay revoked.',
      authScopes: ADMIN,
      args: { id: userId() },
      resolve: async (_root, { id }, ctx) => ({ user: await ctx.services.userAdmin.enable(id.id, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    resetUserPassword: t.field({
      type: ResetUserPasswordPayload,
      description: "Local users only. Ends the user's sessions.",
      authScopes: ADMIN,
      args: { id: userId(), password: t.arg.string({ description: 'Leave out to have one generated.' }) },
      resolve: (_root, { id, password }, ctx) => ctx.services.userAdmin.resetPassword(id.id, password, actorOf(ctx.viewer), ctx.requestInfo),
    }),
    setUserRole: t.field({
      type: UserPayload,
      description: 'Refused when it would leave no active administrator.',
      authScopes: ADMIN,
      args: { id: userId(), role: t.arg({ type: RoleEnum, required: true }) },
      resolve: async (_root, { id, role }, ctx) => ({ user: await ctx.services.userAdmin.setRole(id.id, role, actorOf(ctx.viewer), ctx.requestInfo) }),
    }),
    unlinkConnection: t.field({
      type: DeletedPayload,
      description: 'Removes a link to an external sign-in provider. Administrators for anyone; users for their own.',
      authScopes: { authenticated: true },
      args: { id: t.arg.globalID({ required: true, for: OAuthConnectionRef }) },
      resolve: async (_root, { id }, ctx) => {
        await ctx.services.userAdmin.unlinkConnection(id.id, actorOf(ctx.viewer), ctx.requestInfo);
        return { deletedId: encodeId('OAuthConnection', id.id) };
      },
    }),
  };
});

export { DeletedPayload };
