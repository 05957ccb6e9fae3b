// Domain error → GraphQL error code, in one place. Expected failures carry `extensions.code`; anything
// else is masked to a generic message with a correlation id that points at the logged details.
import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { BadInput, Conflict, Forbidden, InvalidToken, NotFound, OAuthError, TemporarilyUnavailable, TooManyAttempts } from '../domain/errors.js';
import type { Logger } from '../ops/logger.js';
import { errorFields } from '../ops/logger.js';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'TOO_MANY_ATTEMPTS'
  | 'UNAVAILABLE'
  | 'BAD_REQUEST'
  | 'GRAPHQL_VALIDATION_FAILED'
  | 'INTERNAL_SERVER_ERROR';

export function codedError(message: string, code: ErrorCode, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

function domainCode(err: unknown): ErrorCode | null {
  if (err instanceof NotFound) return 'NOT_FOUND';
  // Prisma's "a record this needed was not found" (P2025), e.g. a row deleted between two reads.
  if (isRecordNotFound(err)) return 'NOT_FOUND';
  if (err instanceof Forbidden) return 'FORBIDDEN';
  if (err instanceof Conflict) return 'CONFLICT';
  if (err instanceof InvalidToken) return 'UNAUTHENTICATED';
  if (err instanceof TooManyAttempts) return 'TOO_MANY_ATTEMPTS';
  if (err instanceof TemporarilyUnavailable) return 'UNAVAILABLE';
  // OAuth errors reaching GraphQL come from validating admin input (scopes, redirect URIs).
  if (err instanceof BadInput || err instanceof OAuthError || err instanceof PothosValidationError) return 'BAD_USER_INPUT';
  return null;
}

function isRecordNotFound(err: unknown): boolean {
  return err instanceof Error && err.name === 'PrismaClientKnownRequestError' && (err as Error & { code?: string }).code === 'P2025';
}

/** The innermost error: resolvers' errors arrive wrapped in GraphQLErrors that carry the path. */
function innermost(error: unknown): unknown {
  let current = error;
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}

/**
 * Errors graphql-js and Yoga produce themselves get a code too: HTTP-level ones (bad JSON, batch too
 * large) BAD_REQUEST; validation errors are coded when validated (see codeValidationErrors); what is
 * left comes from executing with the caller's input (variables that do not fit their types, an ID of
 * a type that does not exist), hence BAD_USER_INPUT.
 */
function graphqlCode(error: GraphQLError): ErrorCode {
  return error.extensions?.http ? 'BAD_REQUEST' : 'BAD_USER_INPUT';
}

/** Yoga plugin hook: validation errors (including the depth, cost and alias limits) say so in their code. */
export function codeValidationErrors(errors: readonly Error[]): Error[] {
  return errors.map((error) =>
    !(error instanceof GraphQLError) || typeof error.extensions?.code === 'string'
      ? error
      : withCode(error, error.message, { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' }),
  );
}

function withCode(error: GraphQLError | null, message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, {
    nodes: error?.nodes,
    source: error?.source,
    positions: error?.positions,
    path: error?.path,
    extensions,
  });
}

/** Yoga's maskError: keeps coded errors, translates domain errors, masks and logs the rest. */
export function maskError(logger: Logger) {
  return (error: unknown): Error => {
    const outer = error instanceof GraphQLError ? error : null;
    const original = innermost(error);
    const code = domainCode(original);
    if (code) {
      // Prisma's own message names files and queries: the caller gets a plain one.
      const message = isRecordNotFound(original)
        ? 'That record does not exist (any more).'
        : original instanceof OAuthError
          ? original.description
          : (original as Error).message;
      // Both say when to try again, as Retry-After does on the other faces.
      const retryAfter = original instanceof TooManyAttempts || original instanceof TemporarilyUnavailable ? { retryAfter: original.retryAfter } : {};
      // Which input field a BAD_USER_INPUT is about, so a form can show the message next to it.
      const field = original instanceof BadInput && original.field ? { field: original.field } : {};
      return withCode(outer, message, { code, ...retryAfter, ...field });
    }
    if (original instanceof GraphQLError) {
      // Yoga attaches the parser's error to some HTTP errors; its message is no business of the caller's.
      const { originalError: _hidden, ...extensions } = original.extensions ?? {};
      const code = typeof extensions.code === 'string' ? extensions.code : graphqlCode(original);
      return withCode(outer ?? original, original.message, { ...extensions, code });
    }
    const correlationId = randomUUID();
    logger.error('graphql operation failed', { correlation_id: correlationId, path: outer?.path?.join('.'), ...errorFields(original) });
    return withCode(outer, `Unexpected error (correlation id ${correlationId}).`, { code: 'INTERNAL_SERVER_ERROR', correlationId });
  };
}
