// Messages that survive one redirect (post/redirect/get): "User created", and secrets shown once.
//
// A secret (a generated password, a client secret) must reach the page after the redirect without
// ever being readable where sessions are stored: it is sealed under the browser's session cookie id,
// which the server keeps only as a hash (domain/seal.ts), and taken out of the session when shown.
import type { Context } from 'koa';
import { seal, unseal } from '../domain/seal.js';
import { SESSION_COOKIE } from './session.js';

export interface Flash {
  kind: 'ok' | 'error';
  message: string;
}

export interface ShownOnce {
  /** What it is, e.g. "Client secret". */
  label: string;
  value: string;
  /** Extra words under it, e.g. "Copy it now: it is stored hashed and cannot be shown again." */
  note?: string;
}

const SEAL_INFO = 'authgate show-once v1';

export function flash(ctx: Context, message: string, kind: Flash['kind'] = 'ok'): void {
  if (!ctx.session) return;
  const list = Array.isArray(ctx.session.flash) ? (ctx.session.flash as Flash[]) : [];
  ctx.session.flash = [...list, { kind, message }];
}

/** Keeps `secrets` for the next page this browser renders, sealed under its session cookie. */
export function showOnce(ctx: Context, secrets: ShownOnce[]): void {
  const cookieId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  if (!ctx.session || !cookieId) throw new Error('showOnce needs a browser session');
  const salt = ctx.session.csrf ?? '';
  ctx.session.showOnce = seal(JSON.stringify(secrets), cookieId, String(salt), SEAL_INFO);
}

/** The messages and secrets waiting for this page, removed from the session as they are read. */
export function takeFlash(ctx: Context): { messages: Flash[]; secrets: ShownOnce[] } {
  const session = ctx.session;
  if (!session || (session.flash === undefined && session.showOnce === undefined)) return { messages: [], secrets: [] };
  const messages = Array.isArray(session.flash) ? (session.flash as Flash[]) : [];
  let secrets: ShownOnce[] = [];
  if (typeof session.showOnce === 'string') {
    const cookieId = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    const text = cookieId ? unseal(session.showOnce, cookieId, String(session.csrf ?? ''), SEAL_INFO) : null;
    if (text) secrets = JSON.parse(text) as ShownOnce[];
  }
  delete session.flash;
  delete session.showOnce;
  return { messages, secrets };
}
