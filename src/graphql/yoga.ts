// The GraphQL endpoint: Yoga with its limits, error masking and CSRF rule, as a Koa middleware.
//
// The Koa side decides who is calling before Yoga runs: a Bearer token must be valid (else 401 with
// WWW-Authenticate, RFC 6750 §3.1), otherwise the browser session's user is the viewer. It also reads
// the body itself, with a size limit, because Yoga would read an unbounded stream.
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { getOperationAST, NoSchemaIntrospectionCustomRule, type GraphQLError, type ValidationContext } from 'graphql';
import { createYoga, type Plugin } from 'graphql-yoga';
import type { Context, Next } from 'koa';
import { Readable } from 'node:stream';
import getRawBody from 'raw-body';
import type { Config } from '../config/env.js';
import type { Db } from '../db/client.js';
import { sha256Hex } from '../domain/crypto.js';
import { InvalidToken } from '../domain/errors.js';
import { requestInfo } from '../http/request-info.js';
import type { Logger } from '../ops/logger.js';
import type { RequestInfo } from '../services/request-context.js';
import { SESSION_COOKIE } from '../web/session.js';
import type { AuditStream } from './audit-stream.js';
import { bearerViewer, cookieViewer, type GraphQLContext, type GraphQLServices, type Viewer } from './context.js';
import { codedError, codeValidationErrors, maskError } from './errors.js';
import { createLoaders } from './loaders.js';
import { schema } from './schema.js';

export const GRAPHQL_PATH = '/graphql';

/** What the Koa side hands Yoga for each request. */
interface ServerContext {
  viewer: Viewer | null;
  requestInfo: RequestInfo;
  /** The request could not have been sent by a cross-site page: see `crossSiteSafe`. */
  crossSiteSafe: boolean;
  sessionId: string | null;
  viewerStillValid: () => Promise<boolean>;
}

// Content types a cross-site <form> cannot send: a browser must preflight them, and /graphql answers
// no CORS preflight, so another site's page cannot make one.
const NON_SIMPLE_TYPES = ['application/json', 'application/graphql-response+json'];

// GraphiQL is served whole by this server (@graphql-yoga/render-graphiql inlines its script, styles and
// editor workers), so it works on networks without internet access and loads nothing from elsewhere.
// Its inline script and blob workers need more than the pages' strict policy allows, on this page only.
// The bundle is one large string: loaded on the first GraphiQL request, not at startup, it costs 45 MB
// of resident memory only to those who open it.
const renderGraphiQL = async (options: Parameters<typeof import('@graphql-yoga/render-graphiql').renderGraphiQL>[0]) =>
  (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options);
const GRAPHIQL_CSP = [
  "default-src 'none'",
  "script-src 'unsafe-inline'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  'worker-src blob:',
  "img-src 'self' data:",
  'font-src data:',
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

// graphql-armor throws its refusals by default, which would skip the other rules and reach the caller
// uncoded; reported as validation errors they are coded like any other and still stop execution.
const REPORT_AS_VALIDATION_ERROR = {
  exposeLimits: true,
  propagateOnRejection: false,
  onReject: [(context: ValidationContext | null, error: GraphQLError) => context?.reportError(error)],
};

export interface GraphQLDeps {
  config: Pick<Config, 'graphql' | 'baseUrl'>;
  db: Db;
  services: GraphQLServices;
  logger: Logger;
  auditStream: AuditStream;
}

export function graphqlMiddleware(deps: GraphQLDeps) {
  const { config, db, services, logger, auditStream } = deps;
  const limits = config.graphql;
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: ({ viewer, requestInfo: info, sessionId, viewerStillValid }): GraphQLContext => ({
      viewer,
      requestInfo: info,
      sessionId,
      viewerStillValid,
      db,
      services,
      auditStream,
      loaders: createLoaders(db),
    }),
    maskedErrors: { maskError: maskError(logger) },
    batching: { limit: limits.maxBatch },
    graphiql: limits.graphiql ? { title: 'AuthGate GraphQL' } : false,
    renderGraphiQL,
    landingPage: false,
    // Yoga's default CORS reflects any Origin with credentials, which would let any site read a
    // signed-in admin's data; /graphql is for this site's pages and for token-bearing tools only.
    cors: false,
    logging: false,
    plugins: [
      maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...REPORT_AS_VALIDATION_ERROR }),
      costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, ...REPORT_AS_VALIDATION_ERROR }),
      maxAliasesPlugin({ n: limits.maxAliases, ...REPORT_AS_VALIDATION_ERROR }),
      ...(limits.introspection ? [] : [noIntrospection()]),
      crossSiteMutationGuard(),
      codedValidationErrors(),
    ],
  });

  return async function graphql(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== GRAPHQL_PATH) return next();
    let viewer: Viewer | null = null;
    const authorization = ctx.get('authorization');
    if (authorization) {
      const token = /^Bearer +([^\s]+) *$/i.exec(authorization)?.[1];
      try {
        if (!token) throw new InvalidToken('send an access token as "Authorization: Bearer <token>"');
        viewer = bearerViewer((await services.tokens.validateAccessToken(token)).token);
      } catch (err) {
        if (!(err instanceof InvalidToken)) throw err;
        return refuseToken(ctx, err.description);
      }
    } else if (ctx.state.user) {
      viewer = cookieViewer(ctx.state.user);
    }

    let body: Buffer | undefined;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      try {
        body = await getRawBody(ctx.req, { limit: limits.bodyLimitBytes, length: ctx.request.length });
      } catch (err) {
        const tooLarge = (err as { status?: number }).status === 413;
        return sendErrors(ctx, tooLarge ? 413 : 400, tooLarge ? `The request body is larger than ${limits.bodyLimitBytes} bytes.` : 'The request body could not be read.', 'BAD_REQUEST');
      }
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(ctx.req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // Ends a subscription's stream when its client goes away.
    const abort = new AbortController();
    ctx.res.once('close', () => abort.abort());
    const request = new Request(new URL(ctx.originalUrl, config.baseUrl), { method: ctx.method, headers, body: body && new Uint8Array(body), signal: abort.signal });
    const sessionId = viewer?.via === 'cookie' ? currentSessionId(ctx) : null;
    const bearer = viewer?.via === 'bearer' ? /^Bearer +([^\s]+) *$/i.exec(authorization)![1]! : null;
    const response = await yoga.handleRequest(request, {
      viewer,
      requestInfo: requestInfo(ctx),
      crossSiteSafe: crossSiteSafe(ctx, config.baseUrl),
      sessionId,
      viewerStillValid: () => stillValid(db, services, bearer, sessionId, viewer),
    });

    // Streamed as it comes (subscriptions are Server-Sent Events); Yoga's stream ponyfill is async-iterable.
    ctx.body = response.body ? Readable.from(response.body as unknown as AsyncIterable<Uint8Array>) : '';
    ctx.status = response.status;
    response.headers.forEach((value, name) => {
      if (name !== 'content-length') ctx.set(name, value);
    });
    if (response.headers.get('content-type')?.startsWith('text/html')) ctx.set('Content-Security-Policy', GRAPHIQL_CSP);
  };
}

/**
 * For long-lived operations (subscriptions): is the caller's credential still good? A revoked or
 * expired token, an ended session or a disabled user ends the stream.
 */
export async function stillValid(db: Db, services: GraphQLServices, bearer: string | null, sessionId: string | null, viewer: Viewer | null): Promise<boolean> {
  if (!viewer) return false;
  if (bearer) return services.tokens.validateAccessToken(bearer).then(() => true, () => false);
  if (!sessionId || viewer.kind !== 'user') return false;
  // The session store (database or Redis) says whether the session is still live; the user must still be active.
  const session = await services.sessions.find(sessionId);
  if (!session?.userId) return false;
  return (await db.user.findUnique({ where: { id: session.userId }, select: { active: true } }))?.active === true;
}

/** The stored id of the browser session: the session store keys rows by the SHA-256 of the cookie's id. */
export function currentSessionId(ctx: Context): string | null {
  const id = ctx.cookies.get(SESSION_COOKIE, { signed: true });
  return id ? sha256Hex(id) : null;
}

/**
 * A cookie-authenticated mutation must come from our own pages: a content type no cross-site form can
 * send, and an Origin (or Referer) that is ours when the browser sends one.
 */
function crossSiteSafe(ctx: Context, baseUrl: string): boolean {
  const type = (ctx.get('content-type').split(';')[0] ?? '').trim().toLowerCase();
  if (!NON_SIMPLE_TYPES.includes(type)) return false;
  const origin = ctx.get('origin') || originOf(ctx.get('referer'));
  return !origin || origin === new URL(baseUrl).origin;
}

function originOf(url: string): string {
  if (!url) return '';
  try {
    return new URL(url).origin;
  } catch {
    return 'invalid';
  }
}

/** Mutations over a browser session are refused unless the request is provably same-site. Tokens are not sent by browsers on their own, so Bearer calls need no such check. */
function crossSiteMutationGuard(): Plugin<GraphQLContext & ServerContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue;
      if (ctx.viewer?.via !== 'cookie' || ctx.crossSiteSafe) return;
      if (getOperationAST(args.document, args.operationName)?.operation !== 'mutation') return;
      setResultAndStopExecution({
        errors: [
          codedError(
            'Mutations with a browser session must be sent as application/json from this site (a cross-site request was refused).',
            'FORBIDDEN',
          ),
        ],
      });
    },
  };
}

function codedValidationErrors(): Plugin {
  return {
    onValidate: () => ({ result, setResult }) => {
      if (result.length > 0) setResult(codeValidationErrors(result));
    },
  };
}

function noIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}

function refuseToken(ctx: Context, description: string): void {
  // RFC 6750 §3: the challenge names the error; quotes would break the header's syntax.
  ctx.set('WWW-Authenticate', `Bearer realm="authgate", error="invalid_token", error_description="${description.replace(/["\\]/g, "'")}"`);
  sendErrors(ctx, 401, 'The access token is invalid, expired or revoked.', 'UNAUTHENTICATED');
}

function sendErrors(ctx: Context, status: number, message: string, code: string): void {
  ctx.status = status;
  ctx.type = 'application/json';
  ctx.body = { errors: [{ message, extensions: { code } }] };
}
