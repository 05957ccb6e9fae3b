// Request parameters for both faces. Bodies are read with a small size limit and parsed by us
// (URLSearchParams / JSON.parse) rather than a generic body parser because OAuth needs what generic
// parsers hide: a repeated parameter is an error (RFC 6749 §3.1), nested `a[b]=c` keys mean nothing,
// and only form and JSON bodies are acceptable.
import type { Context, Next } from 'koa';
import getRawBody from 'raw-body';

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

/** Single-valued parameters; a name that appeared twice is remembered so `get` can refuse it. */
export class Params {
  constructor(
    private readonly values: Map<string, string>,
    private readonly repeated: Set<string>,
  ) {}

  static empty(): Params {
    return new Params(new Map(), new Set());
  }

  /** The value, or undefined when absent. Throws BadRequestBody when the parameter was repeated. */
  get(name: string): string | undefined {
    if (this.repeated.has(name)) throw new BadRequestBody(`parameter "${name}" must not be repeated`);
    if (this.structured.has(name)) throw new BadRequestBody(`parameter "${name}" must be a string`);
    return this.values.get(name);
  }

  /** RFC 6749 §3.1: parameters sent without a value are treated as omitted. */
  optional(name: string): string | undefined {
    const value = this.get(name);
    return value === '' ? undefined : value;
  }

  /** Parameters that may legitimately repeat (RFC 8707 `resource`). */
  all(name: string): string[] {
    if (this.structured.has(name)) throw new BadRequestBody(`parameter "${name}" must be a string`);
    return this.multi.get(name) ?? [];
  }

  get hasRepeats(): boolean {
    return this.repeated.size > 0;
  }

  private multi = new Map<string, string[]>();
  // JSON keys whose values were arrays/objects: refused when read as parameters, ignored otherwise
  // (RFC 6749 §3.1: unrecognised parameters are ignored), so structured bodies such as RFC 7591
  // metadata can pass through this reader and be used from `ctx.state.json`.
  private structured = new Set<string>();

  static fromEntries(entries: Iterable<[string, string]>, structured: Iterable<string> = []): Params {
    const values = new Map<string, string>();
    const repeated = new Set<string>();
    const multi = new Map<string, string[]>();
    for (const [key, value] of entries) {
      if (values.has(key)) repeated.add(key);
      values.set(key, value);
      multi.set(key, [...(multi.get(key) ?? []), value]);
    }
    const params = new Params(values, repeated);
    params.multi = multi;
    params.structured = new Set(structured);
    return params;
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

/** Reads a form or JSON body into `ctx.state.body` for POST requests; GET requests get an empty one. */
export function readBody(opts: { limitBytes: number }) {
  return async function readBodyMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.body = ctx.method === 'POST' || ctx.method === 'PUT' || ctx.method === 'PATCH' ? await parseBody(ctx, opts.limitBytes) : Params.empty();
    await next();
  };
}

async function parseBody(ctx: Context, limit: number): Promise<Params> {
  const length = ctx.request.length;
  if (!ctx.request.type && !length) return Params.empty();
  const type = ctx.request.is('application/x-www-form-urlencoded', 'application/json');
  if (!type) throw new BadRequestBody('Content-Type must be application/x-www-form-urlencoded or application/json', 415);
  let text: string;
  try {
    text = await getRawBody(ctx.req, { limit, length, encoding: ctx.request.charset || 'utf-8' });
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 413) throw new BadRequestBody(`request body is larger than ${limit} bytes`, 413);
    if (status === 415) throw new BadRequestBody('unsupported body charset', 415);
    throw new BadRequestBody('request body could not be read');
  }
  if (type === 'application/x-www-form-urlencoded') return Params.fromEntries(new URLSearchParams(text));
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
  return Params.fromEntries(entries, structured);
}
