// WEB_CONCURRENCY > 1: several server processes on one port, with node:cluster. The primary serves
// nothing: it forks the workers (each a whole server; the primary hands them the listening socket's
// connections in turn), replaces a worker that dies, passes SIGTERM and SIGINT on, and answers the
// workers' /metrics with every worker's metrics added up (prom-client's AggregatorRegistry).
// The workers share state as several instances do (PostgreSQL and Redis; config/env.ts refuses
// anything else), so this module only starts, watches and stops processes.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from './logger.js';

const METRICS_REQUEST = 'authgate:metrics-request';
const METRICS_RESPONSE = 'authgate:metrics-response';
// More unexpected exits than this within RESTART_WINDOW_MS: something is wrong with every worker
// (the database is gone, a bad release), and forking more only fills the log.
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WORKER = 3;
// How long a worker's /metrics waits for the primary (which itself gives the workers 5 s).
const METRICS_WAIT_MS = 10_000;

interface MetricsRequest {
  type: typeof METRICS_REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof METRICS_RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

export interface PrimaryOptions {
  workers: number;
  /** After SIGTERM, how long the workers get to finish their own shutdown before they are killed. */
  shutdownMs: number;
  logger: Logger;
}

/**
 * Runs the primary until every worker has exited; resolves with the exit code for the primary:
 * 0 after a clean shutdown, 2 when the first worker found the configuration unusable (as a single
 * process would exit), 1 otherwise.
 * The first worker starts alone, and the others once it listens: it migrates the database and makes
 * the first-run admin, which the others then find done instead of racing for.
 */
export function runPrimary({ workers, shutdownMs, logger }: PrimaryOptions): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const live = new Set<Worker>();
  const restarts: number[] = [];
  let started = false;
  let stopping = false;
  let exitCode = 0;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  const fork = () => live.add(cluster.fork());
  const stop = (code: number, reason: string) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    logger.info('stopping workers', { reason, workers: live.size });
    for (const worker of live) worker.process.kill('SIGTERM');
    if (live.size === 0) finish(exitCode);
    setTimeout(() => {
      for (const worker of live) {
        logger.error('worker did not stop in time; killing it', { worker_pid: worker.process.pid });
        worker.process.kill('SIGKILL');
      }
    }, shutdownMs).unref();
  };

  cluster.on('listening', () => {
    if (started || stopping) return;
    started = true;
    for (let i = 1; i < workers; i++) fork();
  });
  cluster.on('exit', (worker, code, signal) => {
    live.delete(worker);
    // Not "code": the logger redacts that name everywhere (authorization codes).
    const fields = { worker_pid: worker.process.pid, exit_code: code, signal };
    if (stopping) {
      // A worker still starting when SIGTERM came has no handler yet and ends by the signal: clean too.
      if (code !== 0 && signal !== 'SIGTERM') exitCode = exitCode || 1;
      if (live.size === 0) {
        logger.info('workers stopped', { exit_code: exitCode });
        finish(exitCode);
      }
      return;
    }
    if (!started) {
      logger.error('the first worker exited before listening', fields);
      stop(code === 2 ? 2 : 1, 'the first worker did not start');
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > MAX_RESTARTS_PER_WORKER * workers) {
      logger.error('workers keep exiting; stopping', { ...fields, exits_last_minute: restarts.length });
      stop(1, 'workers keep exiting');
      return;
    }
    logger.error('worker exited; starting another', fields);
    fork();
  });
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, METRICS_REQUEST)) return;
    const reply = (answer: Omit<MetricsResponse, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: METRICS_RESPONSE, id: message.id, ...answer } satisfies MetricsResponse);
    };
    aggregator.clusterMetrics().then(
      (text) => reply({ text }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
  });
  process.on('SIGTERM', () => stop(0, 'SIGTERM'));
  process.on('SIGINT', () => stop(0, 'SIGINT'));

  logger.info('starting workers', { workers });
  fork();
  return finished;
}

/**
 * In a worker: what /metrics serves, every worker's metrics added up by the primary. Counters and
 * histograms are summed; the gauges that count database rows say which aggregation they take
 * (ops/metrics.ts), as every worker counts the same rows.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  // Constructing one installs prom-client's answer to the primary's requests for this worker's metrics.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  let nextId = 0;
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  process.on('message', (message: unknown) => {
    if (!isMessage<MetricsResponse>(message, METRICS_RESPONSE)) return;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.text !== undefined) waiting.resolve(message.text);
    else waiting.reject(new Error(`the primary could not collect the workers' metrics: ${message.error ?? 'no answer'}`));
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      if (!process.send || !process.connected) return reject(new Error('this worker is no longer connected to the primary'));
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the primary did not answer with the workers’ metrics in time'));
      }, METRICS_WAIT_MS);
      pending.set(id, { resolve, reject, timer });
      process.send({ type: METRICS_REQUEST, id } satisfies MetricsRequest);
    });
}

function isMessage<T extends { type: string; id: number }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type && typeof (message as { id?: unknown }).id === 'number';
}
