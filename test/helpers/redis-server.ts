// A Redis server of the test's own, on a free port, that the test can stop (kill) and start again on
// the same port, to see what the server does while its Redis is gone.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './server.js';

export interface OwnRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
      await waitUntil(
        () => new Promise<boolean>((resolve) => execFile('redis-cli', ['-p', String(port), 'ping'], (err, out) => resolve(!err && out.trim() === 'PONG'))),
        5000,
      );
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGKILL');
      await exited;
    },
  };
  await own.start();
  return own;
}

export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
