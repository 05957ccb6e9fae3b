// The pages' way into the GraphQL API: an operation executed in this process, with the same schema,
// rules and error codes as /graphql, as the signed-in viewer. Pages never reach Prisma or the
// services themselves; what a page shows or changes is what the API lets this viewer see or do.
//
// Over /graphql a cookie-authenticated mutation must prove it is same-site (JSON + Origin). Here the
// page route has already checked its form's CSRF token before it runs a mutation, which is the same
// guarantee for a form post.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { execute, GraphQLError, validate, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Context } from 'koa';
import type { Db } from '../db/client.js';
import { requestInfo } from '../http/request-info.js';
import type { Logger } from '../ops/logger.js';
import type { AuditStream } from './audit-stream.js';
import { cookieViewer, type GraphQLContext, type GraphQLServices } from './context.js';
import { maskError, type ErrorCode } from './errors.js';
import { createLoaders } from './loaders.js';
import { schema } from './schema.js';
import { currentSessionId, stillValid } from './yoga.js';

/** An expected refusal from the API (its `extensions.code`), for the page to show. */
export class OperationFailed extends Error {
  override name = 'OperationFailed';
  constructor(
    message: string,
    readonly code: ErrorCode,
    /** The input field a BAD_USER_INPUT is about, when the service said. */
    readonly field?: string,
    /** Seconds, for TOO_MANY_ATTEMPTS and UNAVAILABLE. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface PageGraphQL {
  /** Runs `document` as the request's signed-in user; resolves with its data or throws OperationFailed. */
  run<TResult, TVariables extends Record<string, unknown>>(ctx: Context, document: TypedDocumentNode<TResult, TVariables>, variables?: TVariables): Promise<TResult>;
}

export function createPageGraphQL(deps: { db: Db; services: GraphQLServices; logger: Logger; auditStream: AuditStream }): PageGraphQL {
  const mask = maskError(deps.logger);
  // Documents are generated from the committed schema (a test checks they still match), so each is
  // validated once, on first use, rather than on every request.
  const validated = new WeakSet<DocumentNode>();

  return {
    async run<TResult, TVariables extends Record<string, unknown>>(ctx: Context, document: TypedDocumentNode<TResult, TVariables>, variables?: TVariables): Promise<TResult> {
      if (!validated.has(document)) {
        const errors = validate(schema, document);
        if (errors.length > 0) throw new Error(`page operation does not match the schema: ${errors.map((e) => e.message).join('; ')}`);
        validated.add(document);
      }
      const user = ctx.state.user;
      const viewer = user ? cookieViewer(user) : null;
      const sessionId = viewer ? currentSessionId(ctx) : null;
      const contextValue: GraphQLContext = {
        viewer,
        db: deps.db,
        services: deps.services,
        requestInfo: requestInfo(ctx),
        sessionId,
        viewerStillValid: () => stillValid(deps.db, deps.services, null, sessionId, viewer),
        auditStream: deps.auditStream,
        loaders: createLoaders(deps.db),
      };
      const result = (await execute({ schema, document, variableValues: variables, contextValue })) as ExecutionResult<TResult>;
      const first = result.errors?.[0];
      if (first) {
        const coded = mask(first) as GraphQLError;
        const code = coded.extensions?.code as ErrorCode;
        if (code === 'INTERNAL_SERVER_ERROR') throw new Error(coded.message); // logged by maskError with its correlation id
        const { field, retryAfter } = coded.extensions as { field?: string; retryAfter?: number };
        throw new OperationFailed(coded.message, code, field, retryAfter);
      }
      return result.data as TResult;
    },
  };
}
