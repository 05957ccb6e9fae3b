// Tests that run the built server (`node dist/main.js`) build it first, once per test run: jest runs
// the files of a run in one process (--runInBand), whose environment outlives each file's sandbox.
import { execFile, spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
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

/**
 * The built server as a child process on 127.0.0.1:`port`, its data in `dataDir`, with nothing of the
 * test's environment but PATH (a developer's DATABASE_URL or REDIS_URL must not leak in) plus `env`.
 */
export function spawnBuilt(opts: { dataDir: string; port: number; env: Record<string, string>; stdio: StdioOptions }): ChildProcess {
  return spawn(process.execPath, [MAIN], {
    stdio: opts.stdio,
    env: {
      PATH: process.env.PATH!,
      DATA_DIR: opts.dataDir,
      PORT: String(opts.port),
      HOST: '127.0.0.1',
      BASE_URL: `http://127.0.0.1:${opts.port}`,
      ...opts.env,
    },
  });
}
