// `npm run graphql:schema`: writes the printed SDL to schema/schema.graphql, which is committed and
// checked by test/graphql/artefacts.test.ts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printedSchema } from './schema.js';

// src/graphql/ and dist/graphql/ both sit two levels below the repository root.
const target = fileURLToPath(new URL('../../schema/schema.graphql', import.meta.url));
writeFileSync(target, printedSchema());
process.stdout.write(`wrote ${target}\n`);
