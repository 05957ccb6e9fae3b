// The whole schema: every types/<domain>.ts registers its types on the builder when imported.
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.js';
import './types/users.js';
import './types/clients.js';
import './types/connections.js';
import './types/viewer.js';
import './types/user-mutations.js';
import './types/client-mutations.js';
import './types/tokens.js';
import './types/audit.js';
import './types/account.js';
import './types/stats.js';

export const schema = builder.toSchema();

/** The SDL committed at schema/schema.graphql; sorted, so it changes only when the schema does. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
