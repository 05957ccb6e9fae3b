// What the account and admin pages share. These pages are a face of the GraphQL API: everything they
// show or change goes through `deps.gql` (typed documents from src/web/operations, run in-process as the
// signed-in viewer). They never import Prisma, the database or the services (a test checks).
import type { Context, Next } from 'koa';
import { Forbidden } from '../../domain/errors.js';
import { cookieViewer } from '../../graphql/context.js';
import { decodeGlobalId, encodeGlobalId } from '../../graphql/global-id.js';
import { OperationFailed, type PageGraphQL } from '../../graphql/in-process.js';
import { Params } from '../../http/body.js';
import { flash } from '../flash.js';
import { safeLocalPath } from '../local-redirect.js';
import type { Renderer } from '../render.js';

export { csrfProtect } from '../csrf.js';
export { flash, showOnce } from '../flash.js';
export { requireUser } from '../session.js';
export { OperationFailed };

export interface PageDeps {
  gql: PageGraphQL;
  render: Renderer;
}

/** Field name → message, plus `_form` for a message about the whole form. */
export type FieldErrors = Record<string, string>;

/**
 * Admin pages: a visitor is sent to sign in, a signed-in non-admin gets a 403 page. The API refuses
 * them too; checking first gives a clear page instead of a half-rendered one.
 */
export async function adminOnly(ctx: Context, next: Next): Promise<void> {
  const user = ctx.state.user;
  if (!user) {
    ctx.redirect(`/login?redirect=${encodeURIComponent(ctx.method === 'GET' ? ctx.originalUrl : '/admin')}`);
    return;
  }
  if (!cookieViewer(user).isAdmin) throw new Forbidden('Only administrators can open this page.');
  await next();
}

/** The posted form's fields. */
export function form(ctx: Context): Params {
  return ctx.state.body ?? Params.empty();
}

/** A trimmed text field ('' when absent). */
export function text(body: Params, name: string): string {
  return (body.get(name) ?? '').trim();
}

/** A checkbox: present means checked. */
export function checked(body: Params, name: string): boolean {
  return body.get(name) !== undefined;
}

/**
 * A space (or comma) separated field, e.g. redirect URIs or scopes, without empties. Forms use one-line
 * inputs for lists: the body reader refuses control characters, line breaks included, in any value.
 */
export function list(body: Params, name: string, separator: RegExp = /[\s,]+/): string[] {
  return (body.get(name) ?? '')
    .split(separator)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** URLs carry database ids (as AuthGate's do); the API takes global IDs. */
export function globalId(typename: string, id: string): string {
  return encodeGlobalId(typename, id);
}

export function rawId(globalID: string): string {
  return decodeGlobalId(globalID).id;
}

/**
 * A refusal the person can fix in the form (bad input, a conflict) as field errors; anything else
 * is rethrown for the error page.
 */
export function fieldErrors(err: unknown): FieldErrors {
  if (err instanceof OperationFailed && (err.code === 'BAD_USER_INPUT' || err.code === 'CONFLICT' || err.code === 'TOO_MANY_ATTEMPTS')) {
    return { [err.field ?? '_form']: err.message };
  }
  throw err;
}

/**
 * Runs a one-button action (revoke, disable, approve…) and goes back with what happened: its success
 * message, or the API's reason when it refused (a conflict such as disabling yourself, a thing that is
 * gone). Errors that are not the person's to fix still reach the error page.
 */
export async function act(ctx: Context, back: string, run: () => Promise<string>): Promise<void> {
  try {
    flash(ctx, await run());
  } catch (err) {
    if (!(err instanceof OperationFailed) || !['BAD_USER_INPUT', 'CONFLICT', 'NOT_FOUND', 'FORBIDDEN'].includes(err.code)) throw err;
    flash(ctx, err.message, 'error');
  }
  ctx.redirect(safeLocalPath(form(ctx).get('_back') ?? back));
}

/** The current query string minus paging, for building pager links that keep the filters. */
export function withoutPaging(ctx: Context): string {
  const params = new URLSearchParams(ctx.querystring);
  params.delete('after');
  params.delete('before');
  const qs = params.toString();
  return qs ? `${ctx.path}?${qs}` : ctx.path;
}

/** Relay paging arguments from ?after= / ?before=, `size` per page. */
export function paging(ctx: Context, size: number): { first?: number; after?: string; last?: number; before?: string } {
  const after = typeof ctx.query.after === 'string' ? ctx.query.after : undefined;
  const before = typeof ctx.query.before === 'string' ? ctx.query.before : undefined;
  if (before) return { last: size, before };
  return { first: size, ...(after ? { after } : {}) };
}
