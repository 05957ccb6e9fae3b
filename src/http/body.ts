// Request parameters for both faces. Bodies are read with a small size limit and parsed by us
// (URLSearchParams / JSON.parse) rather than a generic body parser because OAuth needs what generic
// parsers hide: a repeated parameter is an error (RFC 6749 §3.1), nested `a[b]=c` keys mean nothing,
// and only form and JSON bodies are acceptable.
//
// This is also the one place where input is screened: control characters in any parameter name or
// value (query, form, JSON) and a repeated or control-laden Authorization header are refused here
// (see Params for when), so no handler, and no database, ever receives them.
import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';
import { hasControlCharacters } from '../domain/control-characters.js';

/** The body or query could not be used; `status` is 400, 413 or 415. Each face renders it its own way. */
export class BadRequestBody extends Error {
  override name = 'BadRequestBody';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415 = 400,
  ) {
    super(message);
  }
}

/**
 * Request parameters. Each name is single-valued unless read with `all` (RFC 8707 `resource`): a name
 * that appeared twice is refused when read with `get`. JSON keys whose values were arrays or objects are
 * refused when read as parameters and ignored otherwise (RFC 6749 §3.1: unrecognised parameters are
 * ignored), so structured bodies such as RFC 7591 metadata pass through and are used from `ctx.state.json`.
 *
 * Control characters: query and form parameters are refused as the request is read. A JSON body may be
 * a document whose consumer has its own error vocabulary (RFC 7591 §3.2.2 `invalid_client_metadata`),
 * so its string values are refused when read as parameters, which every handler does before using
 * them; the consumer of `ctx.state.json` checks what it reads itself.
 */
export class Params {
  private constructor(
    private readonly values: Map<string, string[]>,
    private readonly structured: Set<string>,
    private readonly withControlCharacters: Set<string>,
  ) {}

  static empty(): Params {
    return new Params(new Map(), new Set(), new Set());
  }

  /**
   * `screen: 'now'` throws BadRequestBody at once when a name or value holds a control character;
   * `'on-read'` remembers which names did and refuses them when read.
   */
  static fromEntries(entries: Iterable<[string, string]>, structured: Iterable<string> = [], screen: 'now' | 'on-read' = 'now'): Params {
    const values = new Map<string, string[]>();
    const withControlCharacters = new Set<string>();
    for (const [key, value] of entries) {
      if (screen === 'now') refuseControlCharacters(key, value);
      else if (hasControlCharacters(value)) withControlCharacters.add(key);
      const known = values.get(key);
      if (known) known.push(value);
      else values.set(key, [value]);
    }
    return new Params(values, new Set(structured), withControlCharacters);
  }

  /** The value, or undefined when absent. Throws BadRequestBody when the parameter was repeated. */
  get(name: string): string | undefined {
    const values = this.all(name);
    if (values.length > 1) throw new BadRequestBody(`parameter "${name}" must not be repeated`);
    return values[0];
  }

  /** RFC 6749 §3.1: parameters sent without a value are treated as omitted. */
  optional(name: string): string | undefined {
    const value = this.get(name);
    return value === '' ? undefined : value;
  }

  /** Every value of a parameter that may legitimately repeat. */
  all(name: string): string[] {
    if (this.structured.has(name)) throw new BadRequestBody(`parameter "${name}" must be a string`);
    if (this.withControlCharacters.has(name)) throw new BadRequestBody(`parameter "${name}" must not contain control characters`);
    return this.values.get(name) ?? [];
  }
}

declare module 'koa' {
  interface DefaultState {
    body?: Params;
    /** A JSON body's parsed object, for endpoints whose input is a JSON document (RFC 7591). */
    json?: Record<string, unknown>;
  }
}

export function queryParams(ctx: Context): Params {
  return Params.fromEntries(new URLSearchParams(ctx.querystring));
}

/**
 * The name/value pairs of a form body, as `new URLSearchParams(text)` gives them. A body with nothing
 * encoded in it (no `%`, no `+`, as every token, introspection and revocation request of the bench and
 * of most clients) is split directly: URLSearchParams walked a 600-character token character by
 * character, about 2.5 µs of the 70 an introspection took in a `perf` profile on one of the bench's
 * 2-vCPU machines. Anything else, and a leading `?` (which the URLSearchParams constructor drops),
 * goes to URLSearchParams.
 */
export function formEntries(text: string): Iterable<[string, string]> {
  if (text.includes('%') || text.includes('+') || text.startsWith('?')) return new URLSearchParams(text);
  const entries: [string, string][] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    entries.push(eq === -1 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  return entries;
}

function refuseControlCharacters(name: string, value: string): void {
  if (hasControlCharacters(name)) throw new BadRequestBody('parameter names must not contain control characters');
  if (hasControlCharacters(value)) throw new BadRequestBody(`parameter "${name}" must not contain control characters`);
}

/**
 * Screens the query string and the Authorization header, then reads a form or JSON body into
 * `ctx.state.body` for POST requests (GET requests get an empty one). Every parameter a handler can
 * read has passed the control-character check by the time it runs.
 */
export function readBody(opts: { limitBytes: number }) {
  return async function readBodyMiddleware(ctx: Context, next: Next): Promise<void> {
    checkAuthorizationHeader(ctx);
    if (ctx.querystring) queryParams(ctx);
    ctx.state.body = ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH' ? await parseBody(ctx, opts.limitBytes) : Params.empty();
    await next();
  };
}

/**
 * Node keeps only the first of several Authorization headers, so a second one would be silently
 * ignored: which credential counts would depend on header order. Refused instead (RFC 9110 §5.3: a
 * field that is not a list must not be repeated). Node's parser already refuses control characters in
 * header values except HTAB, which no credential contains.
 */
function checkAuthorizationHeader(ctx: Context): void {
  const raw = ctx.req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'authorization') count++;
  if (count > 1) throw new BadRequestBody('send a single Authorization header');
  if (count === 1 && hasControlCharacters(ctx.get('authorization'))) throw new BadRequestBody('the Authorization header must not contain control characters');
}

const FORM = 'application/x-www-form-urlencoded';

async function parseBody(ctx: Context, limit: number): Promise<Params> {
  const length = ctx.request.length;
  // The form type exactly as OAuth clients send it (every token request) needs no media-type parsing.
  const plainForm = ctx.get('content-type') === FORM;
  if (!plainForm && !ctx.request.type && !length) return Params.empty();
  const type = plainForm ? FORM : ctx.request.is(FORM, 'application/json');
  if (!type) throw new BadRequestBody('Content-Type must be application/x-www-form-urlencoded or application/json', 415);
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, length, encoding: (!plainForm && ctx.request.charset) || 'utf-8' });
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 413) throw new BadRequestBody(`request body is larger than ${limit} bytes`, 413);
    if (status === 415) throw new BadRequestBody('unsupported body charset', 415);
    throw new BadRequestBody('request body could not be read');
  }
  if (type === FORM) return Params.fromEntries(formEntries(text));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRequestBody('request body is not valid JSON');
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new BadRequestBody('JSON body must be an object');
  ctx.state.json = json as Record<string, unknown>;
  const entries: [string, string][] = [];
  const structured: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (typeof value === 'string') entries.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean') entries.push([key, String(value)]);
    else if (Array.isArray(value) && key === 'resource' && value.every((v) => typeof v === 'string')) {
      for (const v of value) entries.push([key, v]);
    } else if (value !== null) structured.push(key);
  }
  return Params.fromEntries(entries, structured, 'on-read');
}
