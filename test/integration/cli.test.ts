// The command line of the built server (`node dist/main.js`, `npm start`), as AuthGate's: `server` (also
// the default) starts it, `-v`/`--version` prints the version and build information, `-h`/`--help` the
// subcommands and the configuration reference, and anything else is an error with the usage (exit 2).
// Configuration problems found at startup end the process with exit code 2 and a message naming the variable.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UNIMPLEMENTED_NAMES, VARIABLES } from '../../src/config/authgate-compat.js';
import { buildOnce, MAIN, ROOT } from '../helpers/build.js';
import { ScriptedBrowser } from '../helpers/browser.js';
import { freePort } from '../helpers/server.js';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built server in an empty directory (no .env there) with only the given environment. */
function cli(args: string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(tmpdir(), 'authgate-cli-'))): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, env: { PATH: process.env.PATH!, DATA_DIR: join(cwd, 'data'), ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  // The real build: tsc, then dist/build-info.json (the commit) as `npm run build` does.
  await buildOnce();
}, 300_000);

describe('-v / --version', () => {
  test.each([['-v'], ['--version']])('%s prints the version from package.json, the commit it was built from and the Node.js version', async (flag) => {
    const res = await cli([flag]);
    expect(res.code).toBe(0);
    expect(res.stderr).toBe('');
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toBe(`${pkg.name} ${pkg.version}`);
    expect(lines[1]).toMatch(/^commit: [0-9a-f]{40}(-dirty)?$/);
    expect(lines[2]).toMatch(/^built: \d{4}-\d\d-\d\dT/);
    expect(lines[3]).toBe(`node: ${process.version} (${process.platform}/${process.arch})`);
  });

  test('npm start passes arguments through', async () => {
    const { stdout } = await run('npm', ['start', '--silent', '--', '--version'], { cwd: ROOT, env: { PATH: process.env.PATH! } });
    expect(stdout.split('\n')[0]).toBe(`${pkg.name} ${pkg.version}`);
  });
});

describe('-h / --help', () => {
  test.each([[['-h']], [['--help']], [['server', '--help']]])('%j prints the subcommands and the configuration reference from the reader’s table', async (args) => {
    const res = await cli(args);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: authgate \[command\]$/m);
    expect(res.stdout).toMatch(/^ {2}server +Start the authorization server/m);
    expect(res.stdout).toMatch(/^ {2}-v, --version/m);
    for (const variable of VARIABLES) expect(res.stdout).toMatch(new RegExp(`^ {2}${variable.name} `, 'm'));
    expect(res.stdout).toContain('SERVER_SHUTDOWN_TIMEOUT');
    expect(res.stdout).toContain('(also read as SHUTDOWN_TIMEOUT)');
    for (const name of UNIMPLEMENTED_NAMES) expect(res.stdout).toContain(name);
  });
});

describe('unknown arguments', () => {
  test.each([[['serve']], [['--port=8080']], [['server', 'extra']], [['-v', '-h']]])('%j: an error naming it, the usage, exit code 2', async (args) => {
    const res = await cli(args);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^error: (unknown argument|unexpected arguments): /);
    expect(res.stderr).toContain('Usage: authgate [command]');
  });
});

describe('server', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  async function start(args: string[], env: Record<string, string>): Promise<{ port: number; output: () => string; exited: Promise<number | null> }> {
    const cwd = mkdtempSync(join(tmpdir(), 'authgate-cli-'));
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, [MAIN, ...args], { cwd, env: { PATH: process.env.PATH!, DATA_DIR: join(cwd, 'data'), SERVER_ADDR: `127.0.0.1:${port}`, ...env } });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => (rmSync(cwd, { recursive: true, force: true }), resolve(code))));
    const deadline = Date.now() + 30_000;
    while (!output.includes('AuthGate listening')) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { port, output: () => output, exited };
  }

  test.each([[['server']], [[]]])('%j starts the server; unimplemented AuthGate variables are logged at warn level; SIGTERM stops it with 0', async (args) => {
    const server = await start(args, { TOKEN_API_URL: 'https://tokens.example.com/api', DB_LOG_LEVEL: 'info' });
    const res = await fetch(`http://127.0.0.1:${server.port}/health`);
    expect(res.status).toBe(200);
    const lines = server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    const warnings = lines.filter((line) => line.level === 'warn').map((line) => line.msg);
    expect(warnings).toEqual([expect.stringMatching(/^TOKEN_API_URL is set but not implemented/), expect.stringMatching(/^DB_LOG_LEVEL is set but not implemented/)]);
    child!.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  test('the built server checks passwords on a hashing thread (dist/identity/password-worker.js) whose priority alone is lowered (Linux); SIGTERM ends it', async () => {
    const server = await start([], { DEFAULT_ADMIN_PASSWORD: 'admin-password-for-cli', PASSWORD_HASH_WORKERS: '1' });
    const browser = new ScriptedBrowser(`http://127.0.0.1:${server.port}`);
    expect((await browser.login('admin', 'wrong-password')).status).toBe(401);
    const page = await browser.login('admin', 'admin-password-for-cli');
    expect(page.status).toBe(302);
    expect(page.location).toBe('/');
    if (process.platform === 'linux') {
      const pid = child!.pid!;
      // Field 19 of each thread's stat, read from outside the server.
      const nice = (path: string) => {
        const stat = readFileSync(path, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const mainNice = nice(`/proc/${pid}/stat`);
      const lowered = readdirSync(`/proc/${pid}/task`).map((tid) => nice(`/proc/${pid}/task/${tid}/stat`)).filter((value) => value !== mainNice);
      expect(lowered).toEqual(mainNice < 19 ? [Math.min(19, mainNice + 10)] : []);
    }
    child!.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  test.each([
    [{ SHUTDOWN_TIMEOUT: '5s', SERVER_SHUTDOWN_TIMEOUT: '9s' }, 'SERVER_SHUTDOWN_TIMEOUT=9s and SHUTDOWN_TIMEOUT=5s disagree'],
    [{ PORT: '1' }, 'and PORT=1 disagree on the port'],
    [{ AUTH_MODE: 'http_api' }, 'AUTH_MODE=http_api needs HTTP_API_URL'],
    [{ GITEA_OAUTH_ENABLED: 'true' }, 'GITEA_OAUTH_ENABLED=true needs GITEA_URL'],
    [{ TLS_CERT_FILE: '/etc/authgate/tls/fullchain.pem' }, 'TLS_CERT_FILE is set but TLS_KEY_FILE is not'],
    [{ DATABASE_DRIVER: 'postgres', DATABASE_DSN: 'host=localhost dbname' }, 'DATABASE_DSN is not a valid PostgreSQL DSN'],
    [{ DEVICE_CODE_RATE_LIMIT: 'ten' }, 'DEVICE_CODE_RATE_LIMIT must be an integer'],
  ])('a configuration error stops startup with exit code 2, naming the variable (%j)', async (env, message) => {
    const res = await cli(['server'], { SERVER_ADDR: '127.0.0.1:8080', ...env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`configuration error: `);
    expect(res.stderr).toContain(message);
  });
});
