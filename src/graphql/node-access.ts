// Who may load which node through `node(id)`. Administrators may load any node; everyone else only
// their own data, and anything else is NOT_FOUND (never FORBIDDEN) so ids cannot be probed.
// Each types/<domain>.ts registers how to tell whether a node of its type belongs to the viewer.
import { NotFound } from '../domain/errors.js';
import type { GraphQLContext } from './context.js';
import { codedError } from './errors.js';

type OwnerCheck = (id: string, ctx: GraphQLContext) => boolean | Promise<boolean>;
const ownerChecks = new Map<string, OwnerCheck>();

/** Lets non-admin viewers load nodes of `typename` for which `check` says they own them. */
export function registerOwnNode(typename: string, check: OwnerCheck): void {
  ownerChecks.set(typename, check);
}

export async function authorizeNode(node: { typename: string; id: string }, ctx: GraphQLContext): Promise<void> {
  if (!ctx.viewer) throw codedError('Sign in or send a valid access token.', 'UNAUTHENTICATED');
  if (ctx.viewer.isAdmin) return;
  const check = ownerChecks.get(node.typename);
  if (!check || !(await check(node.id, ctx))) throw new NotFound(`no ${node.typename} with this id`);
}

/** The usual case: a row that names its user. `ownerOf` reads that user id (null when there is none). */
export function registerUserOwnedNode(typename: string, ownerOf: (id: string, ctx: GraphQLContext) => Promise<string | null | undefined>): void {
  registerOwnNode(typename, async (id, ctx) => ctx.viewer?.kind === 'user' && (await ownerOf(id, ctx)) === ctx.viewer.user.id);
}
