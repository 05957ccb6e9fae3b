// Tests that run the built server (`node dist/main.js`) build it first, once per test run: jest runs
// the files of a run in one process (--runInBand), whose environment outlives each file's sandbox.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = process.cwd();
export const MAIN = join(ROOT, 'dist/main.js');

/** `npm run build` (tsc, then dist/build-info.json), unless this test run already did it. */
export async function buildOnce(): Promise<void> {
  if (process.env.AUTHGATE_TEST_BUILT === String(process.pid)) return;
  await run('npm', ['run', '--silent', 'build'], { cwd: ROOT, timeout: 240_000 });
  process.env.AUTHGATE_TEST_BUILT = String(process.pid);
}
