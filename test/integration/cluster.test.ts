// WEB_CONCURRENCY=2: the built server (`node dist/main.js`) as a primary and two worker processes on
// one port. The workers are several instances on one machine, so they need PostgreSQL and Redis
// (TEST_POSTGRES_URL and TEST_REDIS_URL; skipped without them), and what holds for several instances
// must hold between them: a token revoked through one worker is refused by the other at once, with
// every cache on. The primary replaces a worker that dies, stops when workers keep dying, gives up
// when the first worker cannot start, adds up every worker's metrics at /metrics, and passes SIGTERM
// on for a clean shutdown.
import type { ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnce, spawnBuilt } from '../helpers/build.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { freePort } from '../helpers/server.js';

const REDIS_URL = process.env.TEST_REDIS_URL;
const describeCluster = process.env.TEST_POSTGRES_URL && REDIS_URL ? describe : describe.skip;
const REGISTRATION_TOKEN = randomBytes(32).toString('base64url');

interface LogLine {
  pid: number;
  msg: string;
  path?: string;
  status?: number;
  worker_pid?: number;
  exit_code?: number | null;
}

class Cluster {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    let rest = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString('utf8');
      const parts = text.split('\n');
      rest = parts.pop()!;
      for (const part of parts) if (part.startsWith('{')) this.lines.push(JSON.parse(part) as LogLine);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static start(database: TestDatabase, dataDir: string, port: number, env: Record<string, string> = {}): Cluster {
    const child = spawnBuilt({
      dataDir,
      port,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        LOG_LEVEL: 'info',
        WEB_CONCURRENCY: '2',
        DATABASE_URL: database.url,
        REDIS_URL: REDIS_URL!,
        REDIS_KEY_PREFIX: `authgate-cluster-test:${randomUUID()}:`,
        TOKEN_CACHE_ENABLED: 'true',
        METRICS_ENABLED: 'true',
        ENABLE_RATE_LIMIT: 'false',
        ENABLE_DYNAMIC_CLIENT_REGISTRATION: 'true',
        DYNAMIC_CLIENT_REGISTRATION_TOKEN: REGISTRATION_TOKEN,
        PASSWORD_HASH_WORKERS: '1',
        ...env,
      },
    });
    return new Cluster(child, port);
  }

  /** Waits until `predicate` holds over the log lines so far (or the primary exits, or 20 s pass). */
  async waitFor(what: string, predicate: (lines: LogLine[]) => boolean): Promise<void> {
    for (let i = 0; !predicate(this.lines); i++) {
      if (this.child.exitCode !== null) throw new Error(`the primary exited with ${this.child.exitCode} while waiting for ${what}`);
      if (i > 200) throw new Error(`timed out waiting for ${what}; the last lines:\n${this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The pids of the workers listening now: those that said so and have not been reported dead. */
  listeningWorkers(): number[] {
    const dead = new Set(this.lines.filter((l) => l.msg === 'worker exited; starting another').map((l) => l.worker_pid));
    return this.lines.filter((l) => l.msg === 'AuthGate listening' && !dead.has(l.pid)).map((l) => l.pid);
  }

  /** Which processes answered requests for `path` (the access log's "request" lines). */
  servedBy(path: string, since = 0): Set<number> {
    return new Set(this.lines.slice(since).filter((l) => l.msg === 'request' && l.path === path).map((l) => l.pid));
  }
}

/**
 * One request on a connection of its own (no keep-alive pool): each new connection is handed to the
 * next worker in turn, so a run of these reaches both.
 */
function fresh(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: false, headers: { connection: 'close', ...opts.headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describeCluster('WEB_CONCURRENCY=2 (PostgreSQL and Redis)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let cluster: Cluster;
  let client: { client_id: string; client_secret: string };

  const issued = async (): Promise<string> => {
    const res = await fresh(cluster.port, '/oauth/token', form({ grant_type: 'client_credentials', ...client }));
    expect(res.status).toBe(200);
    return (JSON.parse(res.text) as { access_token: string }).access_token;
  };
  const tokeninfo = (token: string) => fresh(cluster.port, '/oauth/tokeninfo', { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  const issuedCount = async (): Promise<number> => {
    const res = await fresh(cluster.port, '/metrics');
    expect(res.status).toBe(200);
    const line = res.text.split('\n').find((l) => l.startsWith('oauth_tokens_issued_total{') && l.includes('grant_type="client_credentials"') && l.includes('token_type="access"'));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  /** Repeats `step` (on new connections) until both workers have served `path` since log line `since`. */
  const untilBothServed = async (path: string, since: number, step: () => Promise<void>) => {
    for (let i = 0; i < 20; i++) {
      await step();
      // The access line is written as the answer leaves: give it a moment to reach the pipe.
      await new Promise((r) => setTimeout(r, 20));
      if (cluster.servedBy(path, since).size === 2) return;
    }
    throw new Error(`${path} was not served by both workers in 20 requests`);
  };

  beforeAll(async () => {
    await buildOnce();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'authgate-cluster-'));
    cluster = Cluster.start(database, dataDir, await freePort());
    await cluster.waitFor('two workers listening', () => cluster.listeningWorkers().length === 2);
    const res = await fresh(cluster.port, '/oauth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${REGISTRATION_TOKEN}` },
      body: JSON.stringify({ client_name: 'cluster', grant_types: ['client_credentials'], scope: 'profile' }),
    });
    expect(res.status).toBe(201);
    client = JSON.parse(res.text) as typeof client;
  }, 300_000);

  afterAll(async () => {
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill('SIGKILL');
      await cluster.exited;
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('the primary serves nothing itself; both workers answer, in turn', async () => {
    const primary = cluster.child.pid!;
    const workers = cluster.listeningWorkers();
    expect(workers).not.toContain(primary);
    const since = cluster.lines.length;
    for (let i = 0; i < 8; i++) expect((await fresh(cluster.port, '/.well-known/openid-configuration')).status).toBe(200);
    await cluster.waitFor('the access lines', () => cluster.lines.slice(since).filter((l) => l.msg === 'request').length >= 8);
    expect([...cluster.servedBy('/.well-known/openid-configuration', since)].sort()).toEqual([...workers].sort());
    // The first worker migrated and seeded; the second found both done.
    expect(cluster.lines.filter((l) => l.msg === 'database migrated')).toHaveLength(1);
  });

  test('a token revoked through one worker is refused by every worker at once, both caches warm (x5)', async () => {
    for (let round = 0; round < 5; round++) {
      const token = await issued();
      // Warm: each worker checks the token and caches it (new connections alternate between the two).
      const since = cluster.lines.length;
      await untilBothServed('/oauth/tokeninfo', since, async () => expect(await tokeninfo(token)).toBe(200));
      const revoked = await fresh(cluster.port, '/oauth/revoke', form({ token, ...client }));
      expect(revoked.status).toBe(200);
      // Fired together the moment the revocation returned, on new connections to both workers.
      const after = await Promise.all(Array.from({ length: 10 }, () => tokeninfo(token)));
      expect(after).toEqual(Array(10).fill(401));
    }
  });

  test('/metrics adds up every worker: tokens issued through both are all counted, whichever worker answers', async () => {
    const before = await issuedCount();
    const since = cluster.lines.length;
    for (let i = 0; i < 6; i++) await issued();
    await cluster.waitFor('the access lines', () => cluster.servedBy('/oauth/token', since).size === 2);
    const sinceScrapes = cluster.lines.length;
    await untilBothServed('/metrics', sinceScrapes, async () => expect(await issuedCount()).toBe(before + 6));
  });

  test('a worker killed with SIGKILL is replaced, and the server keeps answering', async () => {
    const [victim, survivor] = cluster.listeningWorkers();
    process.kill(victim!, 'SIGKILL');
    await cluster.waitFor('a replacement', () => cluster.listeningWorkers().length === 2 && !cluster.listeningWorkers().includes(victim!));
    const replacement = cluster.listeningWorkers().find((pid) => pid !== survivor)!;
    expect(cluster.lines.find((l) => l.msg === 'worker exited; starting another')).toMatchObject({ worker_pid: victim, exit_code: null });
    const since = cluster.lines.length;
    await untilBothServed('/oauth/token', since, async () => void (await issued()));
    const token = await issued();
    await untilBothServed('/oauth/tokeninfo', since, async () => expect(await tokeninfo(token)).toBe(200));
    expect([...cluster.servedBy('/oauth/token', since)].sort()).toEqual([replacement, survivor].sort());
    expect([...cluster.servedBy('/oauth/tokeninfo', since)].sort()).toEqual([replacement, survivor].sort());
  });

  test('SIGTERM to the primary shuts every worker down cleanly, and the primary exits 0', async () => {
    const workers = cluster.listeningWorkers();
    cluster.child.kill('SIGTERM');
    expect(await cluster.exited).toBe(0);
    expect(cluster.lines.filter((l) => l.msg === 'shutting down').map((l) => l.pid).sort()).toEqual([...workers].sort());
    expect(cluster.lines.find((l) => l.msg === 'workers stopped')).toMatchObject({ exit_code: 0 });
    for (const pid of workers) expect(alive(pid)).toBe(false);
  });

  test('a first worker that cannot start (Redis unreachable) stops the primary with exit code 2, and no other worker is forked', async () => {
    const down = Cluster.start(database, dataDir, await freePort(), { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_CONN_TIMEOUT: '1s' });
    expect(await down.exited).toBe(2);
    const pids = new Set(down.lines.map((l) => l.pid));
    expect(pids.size).toBe(2); // the primary and the one worker
    expect(down.lines.find((l) => l.msg === 'the first worker exited before listening')).toMatchObject({ exit_code: 2 });
  });

  test('workers that keep dying make the primary stop (exit code 1) instead of forking forever', async () => {
    const flapping = Cluster.start(database, dataDir, await freePort());
    const killed = new Set<number>();
    // Each worker is killed as soon as it listens: more than three exits a worker within a minute.
    while (flapping.child.exitCode === null) {
      for (const pid of flapping.listeningWorkers()) {
        if (!killed.has(pid)) {
          killed.add(pid);
          process.kill(pid, 'SIGKILL');
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await flapping.exited).toBe(1);
    expect(flapping.lines.find((l) => l.msg === 'workers keep exiting; stopping')).toBeDefined();
    expect(killed.size).toBeGreaterThanOrEqual(7);
  }, 120_000);
});
