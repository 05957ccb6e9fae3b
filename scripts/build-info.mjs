// Writes dist/build-info.json after `tsc`: the git commit the build was made from (with "-dirty" when the
// working tree had uncommitted changes) and the build time, for `node dist/main.js --version`.
// Without git (a source tarball), the commit is left out rather than guessed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

function git(...args) {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

const head = git('rev-parse', 'HEAD');
const dirty = head !== undefined && git('status', '--porcelain', '--untracked-files=no') !== '';
const info = { ...(head ? { commit: dirty ? `${head}-dirty` : head } : {}), builtAt: new Date().toISOString() };
mkdirSync('dist', { recursive: true });
writeFileSync('dist/build-info.json', JSON.stringify(info, null, 2) + '\n');
