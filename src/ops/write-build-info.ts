// Run by `npm run build` after tsc: writes dist/build-info.json with the git commit the build was made
// from ("-dirty" when the working tree had uncommitted changes) and the build time, for
// `node dist/main.js --version`. Without git (a source tarball) the commit is left out, never guessed.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

function git(...args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const head = git('rev-parse', 'HEAD');
const dirty = head !== undefined && git('status', '--porcelain', '--untracked-files=no') !== '';
const info = { ...(head ? { commit: dirty ? `${head}-dirty` : head } : {}), builtAt: new Date().toISOString() };
// This file runs as dist/ops/write-build-info.js; the CLI reads dist/build-info.json.
writeFileSync(new URL('../build-info.json', import.meta.url), JSON.stringify(info, null, 2) + '\n');
