// Builds the whole server from its parts, without listening, so tests and main.ts start it the same way.
import Koa from 'koa';
import compose from 'koa-compose';
import type { Context, Middleware, Next } from 'koa';
import cluster from 'node:cluster';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/env.js';
import { createPrismaClient, type Db } from './db/client.js';
import { createIssuanceStore, GroupCommit, type Issuance } from './db/issuance-writer.js';
import { runMigrations } from './db/migrate.js';
import { createAuditStream } from './graphql/audit-stream.js';
import { createPageGraphQL } from './graphql/in-process.js';
import { GRAPHQL_PATH, graphqlMiddleware } from './graphql/yoga.js';
import { readBody } from './http/body.js';
import { PasswordHasher } from './identity/password-hasher.js';
import { cors } from './http/cors.js';
import { directRoutes } from './http/direct-routes.js';
import { requestLog, requestLogger } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import type { JwtSigner } from './keys/jwt.js';
import { loadSigner } from './keys/keyring.js';
import { LimitStore } from './ops/attempt-limiter.js';
import { RequestLimits } from './http/rate-limit.js';
import { Caches } from './ops/cache.js';
import { healthEndpoint } from './ops/health.js';
import { Metrics } from './ops/metrics.js';
import { instrumentDb, scheduleGaugeUpdates } from './ops/metrics-db.js';
import { httpMetrics, METRICS_PATH, metricsEndpoint } from './ops/metrics-http.js';
import { scheduleAuditRetention, scheduleHousekeeping } from './ops/housekeeping.js';
import { closeRedis, connectRedis } from './ops/redis.js';
import { clusterMetricsSource } from './ops/cluster.js';
import type { Logger } from './ops/logger.js';
import { errorFields } from './ops/logger.js';
import { apiDocsRouter } from './oauth/api-docs.js';
import { ConfigError } from './domain/errors.js';
import { oauthRouter } from './oauth/router.js';
import { oauthErrors, protocolUnrouted } from './oauth/respond.js';
import { seedFirstRun, type SeedResult } from './services/bootstrap.js';
import { createServices, type Services } from './services/index.js';
import { createRenderer, createTemplates } from './web/render.js';
import { pageErrors, pageUnrouted } from './web/errors.js';
import { webRouter } from './web/router.js';
import { loadUser, sessionMiddleware } from './web/session.js';

export interface AuthGate {
  app: Koa;
  db: Db;
  services: Services;
  /** This instance's Prometheus registry and metrics (served at /metrics when METRICS_ENABLED). */
  metrics: Metrics;
  /** The read-through caches (clients, users, token status); writes made outside the services must invalidate here. */
  caches: Caches;
  /** The password hashing pool (PASSWORD_HASH_WORKERS threads), closed by close(). */
  passwords: PasswordHasher;
  signer: JwtSigner;
  seed: SeedResult;
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port?: number, host?: string): Promise<{ server: Server; port: number }>;
  /** Stops accepting, waits for in-flight requests (bounded), ends the password hashing threads, flushes the audit log, closes the database. */
  close(): Promise<void>;
}

// /oauth/authorize is a page people see (sign-in, consent), so it belongs to the HTML face; so do the
// pages of signing in with a provider, /oauth/<provider> and /oauth/<provider>/callback (provider names
// cannot be a protocol endpoint's: see RESERVED_PROVIDER_NAMES).
const PROTOCOL_PATH = /^\/(?!oauth\/authorize(\/|$))(oauth|\.well-known)(\/|$)/;
const PROVIDER_PATH = /^\/oauth\/([^/]+)(\/callback)?\/?$/;
// Called by every resource server and machine client, many times a second: dispatched directly.
const DIRECT_PROTOCOL_PATHS = ['/oauth/token', '/oauth/introspect', '/oauth/tokeninfo'] as const;

export async function createAuthGate(config: Config, logger: Logger): Promise<AuthGate> {
  // AuthGate variables that are set but not implemented here: one line each, never silently ignored.
  for (const warning of config.warnings) logger.warn(warning);
  if (!config.audit.enabled) {
    logger.warn('ENABLE_AUDIT_LOGGING=false: per-request audit events are not written; administrative and account changes, mass revocations, replays and registrations still are');
  }
  const migration = await withTimeout(
    runMigrations(config.database.dialect === 'sqlite' ? { dialect: 'sqlite', file: config.database.file } : { dialect: 'postgresql', url: config.database.url }),
    config.timeouts.dbInitMs,
    () => new ConfigError(`the database did not answer within DB_INIT_TIMEOUT (${config.timeouts.dbInitMs / 1000}s)`),
  );
  if (migration.applied.length > 0) logger.info('database migrated', { applied: migration.applied });
  // One registry per instance, recorded into only when /metrics is served (METRICS_ENABLED); then
  // query timing, process metrics and database counts run too.
  const metrics = new Metrics({ record: config.metrics.enabled });
  // Before the database client: a Redis that cannot be reached stops startup with nothing left open.
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, logger, { connectTimeoutMs: config.timeouts.redisConnMs, metrics }) : undefined;
  // With Redis, cache invalidations reach every instance, whatever the cache types: pub/sub needs a connection of its own.
  const cacheSubscriber = config.redisUrl
    ? await connectRedis(config.redisUrl, logger, { connectTimeoutMs: config.timeouts.redisConnMs }).catch((err: unknown) => {
        redis?.disconnect();
        throw err;
      })
    : undefined;
  const plainDb = createPrismaClient(config.database);
  const db = config.metrics.enabled ? instrumentDb(plainDb, metrics) : plainDb;
  const signer = await loadSigner(config, db);
  const limits = new LimitStore({ redis, keyPrefix: config.redisKeyPrefix, failClosed: config.rateLimits.failClosed, logger, metrics });
  const caches = new Caches(config.caches, {
    redis,
    subscriber: cacheSubscriber,
    keyPrefix: config.redisKeyPrefix,
    logger,
    metrics,
    confirmWithinMs: config.cacheInvalidationTimeoutMs,
  });
  await caches.start();
  const issuanceStore = await createIssuanceStore(config.database, plainDb);
  // 512 rows a batch stays far below either dialect's parameter limits. Two batches at a time: one
  // committing, the next already sent (on SQLite, waiting in the writer thread's queue).
  const issuances = new GroupCommit<Issuance, boolean>((batch) => issuanceStore.write(batch), { maxBatch: 512, inFlight: 2 });
  // Threads start with the first password to hash (here the first-run seed, if any); ended by close().
  const passwords = new PasswordHasher({ workers: config.passwordHashWorkers, logger: logger.child({ component: 'password_hasher' }) });
  const services = createServices({ db, config, signer, logger, limits, metrics, caches, issuances, pollStore: issuanceStore, redis, passwords });
  const seed = await seedFirstRun(db, { dataDir: config.dataDir, adminPassword: config.defaultAdminPassword, logger, passwords }).catch(async (err: unknown) => {
    await passwords.close();
    await issuanceStore.close();
    throw err;
  });

  const app = new Koa({ proxy: config.trustProxy });
  app.silent = true; // errors are rendered and logged by each face's error middleware
  const render = createRenderer(createTemplates(), { name: 'AuthGate' });
  const requestLimits = new RequestLimits({ redis, keyPrefix: config.redisKeyPrefix, store: limits, audit: services.audit, metrics });
  const protocol = oauthRouter({ config, services, signer, limits: requestLimits });
  const body = readBody({ limitBytes: config.bodyLimitBytes });
  // Yoga reads /graphql bodies itself (with its own limit); the generic reader must leave them alone.
  const pageBody = (ctx: Context, next: Next) => (ctx.path === GRAPHQL_PATH ? next() : body(ctx, next));
  const auditStream = await createAuditStream(services.audit, { redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix, logger });
  const graphql = graphqlMiddleware({ config, db, services, logger, auditStream });
  const pages = webRouter({ services, render, config, logger, gql: createPageGraphQL({ db, services, logger, auditStream }), limits: requestLimits });

  if (config.metrics.enabled) metrics.collectProcessMetrics();
  // The protocol face (JSON for machines) and the pages (HTML for people) part by path.
  const providerNames = new Set(config.externalSignIn.providers.map((p) => p.name));
  const isProtocol = (path: string) => PROTOCOL_PATH.test(path) && !providerNames.has(PROVIDER_PATH.exec(path)?.[1] ?? '');
  // What every request passes first, outermost first (also the front of the direct routes, below).
  const front: Middleware[] = [
    ...(config.metrics.enabled ? [httpMetrics(metrics)] : []),
    requestLog(logger),
    lastResort(logger),
    securityHeaders({ hsts: config.secureCookies, api: isProtocol }),
  ];
  for (const middleware of front) app.use(middleware);
  const health = healthEndpoint(db);
  app.use(async (ctx: Context, next: Next) => (ctx.path === '/health' ? health(ctx) : next()));
  if (config.metrics.enabled) {
    // A worker of WEB_CONCURRENCY > 1 serves the sum of every worker's metrics, not only its own.
    const collect = config.webConcurrency > 1 && cluster.isWorker ? clusterMetricsSource(metrics.registry) : undefined;
    const scrape = metricsEndpoint(metrics, { token: config.metrics.token, collect });
    app.use(async (ctx: Context, next: Next) => (ctx.path === METRICS_PATH ? scrape(ctx) : next()));
  }
  // The protocol API's description and Swagger UI (/api/openapi.json, /api/swagger/); other paths pass on.
  app.use(apiDocsRouter(config).routes() as never);
  // Each face reads bodies inside its own error handling, so a bad body gets that face's error format.
  // Wrong methods on known paths get 405 with Allow from each router's allowedMethods(), rendered by the
  // face's "unrouted" middleware, which sits before the router so it sees the router's decision.
  const protocolFront: Middleware[] = [cors(config.corsAllowedOrigins, config.cors), oauthErrors(logger), body, protocolUnrouted];
  const protocolStack = compose<Context>([...protocolFront, protocol.routes() as never, protocol.allowedMethods() as never]);
  // The hottest protocol routes skip the walk to here (http/direct-routes.ts): the same middleware, run directly.
  const direct = directRoutes(app, { front: [...front, ...protocolFront], router: protocol, paths: DIRECT_PROTOCOL_PATHS });
  const pageStack = compose<Context>([
    pageErrors(render, logger),
    pageBody,
    sessionMiddleware(app, config, services) as never,
    loadUser(services),
    // After the session, so a browser session's user is known; before the pages, which it does not concern.
    graphql,
    pageUnrouted(render),
    pages.routes() as never,
    pages.allowedMethods() as never,
  ]);
  app.use(async (ctx: Context, next: Next) => (isProtocol(ctx.path) ? protocolStack(ctx, next) : pageStack(ctx, next)));

  const stopHousekeeping = scheduleHousekeeping(db, logger, 10 * 60_000);
  const stopGauges =
    config.metrics.enabled && config.metrics.gaugeUpdate.enabled ? scheduleGaugeUpdates(db, metrics, logger, config.metrics.gaugeUpdate.intervalMs, () => services.sessions.countActive()) : () => {};
  const stopAuditRetention = scheduleAuditRetention(db, logger, { retentionSeconds: config.audit.retentionSeconds, intervalMs: config.audit.cleanupIntervalMs });
  let server: Server | undefined;
  return {
    app,
    db,
    services,
    metrics,
    caches,
    passwords,
    signer,
    seed,
    async listen(port = config.port, host = config.host) {
      const listener = direct(app.callback());
      // TLS_CERT_FILE + TLS_KEY_FILE: HTTPS on the same address (Node's TLS defaults); no reload, restart to renew.
      server = config.tls ? createHttpsServer({ cert: config.tls.cert, key: config.tls.key }, listener) : createHttpServer(listener);
      server.requestTimeout = 30_000;
      server.headersTimeout = 15_000;
      server.keepAliveTimeout = config.timeouts.keepAliveMs;
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      return { server, port: (server.address() as AddressInfo).port };
    },
    async close() {
      stopHousekeeping();
      stopGauges();
      requestLimits.close();
      // A cleanup in progress stops after its current chunk, before the database closes.
      await stopAuditRetention();
      // Live subscriptions end first: an open event stream would otherwise hold the server open until the deadline.
      await auditStream.endSubscriptions();
      if (server) {
        const closing = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref());
        await Promise.race([closing, timeout]);
        server.closeAllConnections();
      }
      // After the requests: a sign-in still running when the deadline passed gets a 503 "try again".
      await passwords.close();
      // Each bounded by its AuthGate timeout: a database or Redis that is gone must not hold shutdown.
      await withTimeout(services.audit.close(), config.timeouts.auditShutdownMs, () => new Error('AUDIT_SHUTDOWN_TIMEOUT')).catch((err: unknown) =>
        logger.error('audit log not fully written at shutdown', errorFields(err)),
      );
      // After the audit log's last batch, which it publishes to other instances' subscribers.
      await withTimeout(auditStream.close(), config.timeouts.redisCloseMs, () => new Error('REDIS_CLOSE_TIMEOUT')).catch((err: unknown) =>
        logger.error('audit stream did not close', errorFields(err)),
      );
      await withTimeout(
        Promise.all([issuances.drained(), services.deviceCodes.close()]).then(() => issuanceStore.close()),
        config.timeouts.dbCloseMs,
        () => new Error('DB_CLOSE_TIMEOUT'),
      ).catch((err: unknown) => logger.error('token writes did not finish', errorFields(err)));
      await withTimeout(db.$disconnect(), config.timeouts.dbCloseMs, () => new Error('DB_CLOSE_TIMEOUT')).catch((err: unknown) =>
        logger.error('database close did not finish', errorFields(err)),
      );
      caches.close();
      if (cacheSubscriber) {
        await withTimeout(closeRedis(cacheSubscriber), config.timeouts.redisCloseMs, () => new Error('REDIS_CLOSE_TIMEOUT')).catch(() => cacheSubscriber.disconnect());
      }
      if (redis) {
        await withTimeout(closeRedis(redis), config.timeouts.redisCloseMs, () => new Error('REDIS_CLOSE_TIMEOUT')).catch((err: unknown) => {
          logger.error('Redis close did not finish', errorFields(err));
          redis.disconnect();
        });
      }
    },
  };
}

/** `work`, or `onTimeout()`'s error once `ms` have passed (the work itself is not cancelled). */
async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Anything a face did not handle becomes a plain 500, logged, with no details leaked. */
function lastResort(logger: Logger) {
  return async function lastResortMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (err) {
      requestLogger(ctx, logger).error('unhandled error', { path: ctx.path, ...errorFields(err) });
      ctx.status = 500;
      ctx.type = 'text/plain';
      ctx.body = `Internal Server Error (request id ${ctx.state.requestId})`;
    }
  };
}
