// The GraphQL face's one error mapping: domain errors keep a code and their message; anything
// unexpected is masked to a correlation id that appears, with the details, only in the log.
import { GraphQLError } from 'graphql';
import { BadInput, Conflict, Forbidden, InvalidScope, NotFound } from '../../src/domain/errors.js';
import { maskError } from '../../src/graphql/errors.js';
import type { Logger } from '../../src/ops/logger.js';

function capturingLogger(): Logger & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const log = (msg: string, fields?: Record<string, unknown>) => lines.push({ msg, ...fields });
  return { lines, debug: log, info: log, warn: log, error: log };
}

/** As graphql-js hands a resolver's error to Yoga: wrapped, with the field's path. */
const fromResolver = (err: Error) => new GraphQLError(err.message, { path: ['users'], originalError: err });

test.each([
  [new NotFound('no user with this id'), 'NOT_FOUND'],
  [new Forbidden('not yours'), 'FORBIDDEN'],
  [new Conflict('taken'), 'CONFLICT'],
  [new BadInput('bad'), 'BAD_USER_INPUT'],
  [new InvalidScope('unknown scope: root'), 'BAD_USER_INPUT'],
])('%s becomes %s with its message and path', (err, code) => {
  const logger = capturingLogger();
  const masked = maskError(logger)(fromResolver(err)) as GraphQLError;
  expect(masked.extensions.code).toBe(code);
  expect(masked.message).toBe(err instanceof InvalidScope ? err.description : err.message);
  expect(masked.path).toEqual(['users']);
  expect(logger.lines).toHaveLength(0);
});

test('an unexpected error is masked: a correlation id for the caller, the details only in the log', () => {
  const logger = capturingLogger();
  const boom = new Error('connection to db-7.internal:5432 refused');
  const masked = maskError(logger)(fromResolver(boom)) as GraphQLError;
  expect(masked.extensions.code).toBe('INTERNAL_SERVER_ERROR');
  const id = masked.extensions.correlationId as string;
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  expect(masked.message).toContain(id);
  expect(JSON.stringify(masked.toJSON())).not.toMatch(/db-7|refused|stack/);
  expect(logger.lines).toEqual([expect.objectContaining({ correlation_id: id, error: boom.message, stack: expect.any(String), path: 'users' })]);
});
