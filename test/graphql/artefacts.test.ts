// The committed schema artefacts match what the server builds: schema/schema.graphql (npm run
// graphql:schema) and the typed documents under src/web/generated and test/graphql/generated (npm run graphql:codegen).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { printedSchema } from '../../src/graphql/schema.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('schema/schema.graphql is the SDL the server builds (run `npm run graphql:schema` after changing types)', () => {
  expect(readFileSync(`${root}schema/schema.graphql`, 'utf8')).toBe(printedSchema());
});

test('src/web/generated and test/graphql/generated are what codegen.yml produces (run `npm run graphql:codegen` after changing operations)', async () => {
  // In its own process: codegen loads its presets with plain Node module loading, which jest's
  // module sandbox does not provide. `--check` compares with the committed files and writes nothing.
  const run = promisify(execFile)(process.execPath, [`${root}node_modules/@graphql-codegen/cli/esm/bin.js`, '--config', 'codegen.yml', '--check'], {
    cwd: root,
  });
  await expect(run).resolves.toBeDefined();
}, 60_000);
