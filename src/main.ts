// Process entry: command line → config → app → listen → graceful shutdown. With WEB_CONCURRENCY > 1
// this process becomes the cluster's primary (ops/cluster.ts), and each worker runs this file again.
import './ops/v8-flags.js';
import cluster from 'node:cluster';
import { helpText, parseCommandLine, USAGE, versionText } from './cli.js';
import { loadConfig, loadDotEnv } from './config/env.js';
import { ConfigError } from './domain/errors.js';
import { createLogger, errorFields } from './ops/logger.js';

async function main(): Promise<void> {
  const command = parseCommandLine(process.argv.slice(2));
  if (command.kind === 'error') {
    process.stderr.write(`error: ${command.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (command.kind === 'help') {
    process.stdout.write(helpText());
    return;
  }
  if (command.kind === 'version') {
    process.stdout.write(versionText(new URL('.', import.meta.url)));
    return;
  }
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Bounded: if flushing or closing the database hangs (the database is gone), leave anyway.
  const shutdownDeadlineMs = config.shutdownTimeoutMs + config.timeouts.auditShutdownMs + config.timeouts.dbCloseMs + config.timeouts.redisCloseMs + 5000;
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    const { runPrimary } = await import('./ops/cluster.js');
    // The workers' own deadline first; only a worker still running after it (and a margin) is killed.
    process.exit(await runPrimary({ workers: config.webConcurrency, shutdownMs: shutdownDeadlineMs + 5000, logger }));
  }
  // Loaded only to serve: --version and --help answer without loading the server and its database clients.
  const { createAuthGate } = await import('./app.js');
  const authgate = await createAuthGate(config, logger).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      // Found while starting (an unreachable or too old Redis, ...): a log line collectors pick up.
      logger.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  });
  const { port } = await authgate.listen();
  logger.info('AuthGate listening', { base_url: config.baseUrl, host: config.host, port, tls: Boolean(config.tls), database: config.database.dialect });
  if (authgate.seed.seeded) {
    logger.info(`admin password and CLI client_id written to ${authgate.seed.credentialsFile}`, { client_id: authgate.seed.clientId });
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    authgate
      .close()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error('shutdown failed', errorFields(err));
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
