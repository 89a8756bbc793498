import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server, ServerResponse } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildAdminServices } from './admin-services.js';
import type { CoreDeps } from './app-deps.js';
import type { Config } from './config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres.js';
import { createDatabase } from './db/knex.js';
import { migrateDatabase } from './db/migrate.js';
import { seedDemoFlowIfEmpty } from './flows/demo-flow.js';
import { createHttpApp } from './http/app.js';
import { createAdminRouter } from './http/routes/admin-router.js';
import { createWebhookRouter } from './http/routes/webhook-routes.js';
import { createIntakePriority, noIntakePriority } from './shared/intake-priority.js';
import { createIntakeService } from './conversations/intake-service.js';
import { createStepEngine, type StepEngine } from './conversations/step-engine.js';
import { createSendStage, sendLeaseMs, type SendStage } from './deliveries/send-stage.js';
import { createActionExecutor, type ActionExecutor, type ActionExecutorOptions } from './actions/action-executor.js';
import { createActionHandlers } from './actions/action-handlers.js';
import { createFileDownloader } from './files/file-downloader.js';
import { createDiskFileStorage } from './files/file-storage.js';
import { createGoogleClient } from './integrations/google-client.js';
import { createHttpActionClient } from './integrations/http-action-client.js';
import { createPonttaClient } from './integrations/pontta-client.js';
import { createTimerStage, type TimerStage } from './timers/timer-stage.js';
import { createFlowVersionStore } from './flows/flow-versions.js';
import { createGosacClient } from './integrations/gosac-client.js';
import { createInspectionHub } from './inspection/inspection-hub.js';
import { createInspectionPublisher, inspectionChannels } from './inspection/inspection-publisher.js';
import { createServiceMetrics, recordCommittedSteps } from './inspection/metrics.js';
import { createInspectionRouter } from './http/routes/inspection-routes.js';
import { createSettingsService } from './settings/settings-service.js';
import { defaultSettings } from './settings/setting-definitions.js';
import { createLogger, type Logger } from './shared/logger.js';
import { createPgListener } from './shared/pg-listener.js';
import { createWakeNotifier, INBOX_CHANNEL } from './shared/wake-channels.js';
import {
  createInProcessSharedState,
  createRedisSharedState,
} from './shared/shared-state.js';

export interface RunningService {
  readonly deps: CoreDeps;
  /** Base URL of the HTTP server when this process has the web role. */
  readonly url: string | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  /** Tests: what the action executor does between a call and its record (a simulated crash). */
  readonly actionHooks?: Pick<ActionExecutorOptions, 'beforeRecord'>;
}

/** The composition root: builds every dependency once, starts web and/or worker. */
export async function startService(baseConfig: Config, options: StartOptions = {}): Promise<RunningService> {
  const logger = options.logger ?? createLogger(baseConfig.logLevel);
  const config = await withDevelopmentAdminToken(baseConfig, logger);
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    while (cleanups.length > 0) await cleanups.pop()?.().catch((error: unknown) => {
      logger.error({ err: String(error) }, 'error during shutdown');
    });
  };

  try {
    let embedded: EmbeddedDatabase | undefined;
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      embedded = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'pg'),
        databaseName: 'flowbot',
        log: (message) => logger.debug({ component: 'embedded-postgres' }, message),
      });
      databaseUrl = embedded.url;
      cleanups.push(() => embedded!.stop());
      logger.info({ dataDir: embedded.dataDir }, 'DATABASE_URL not set: using embedded PostgreSQL');
    }
    const db = createDatabase(databaseUrl, config.role === 'web' ? 10 : 14 + config.worker.stepConcurrency, logger);
    cleanups.push(() => db.destroy());

    const applied = await migrateDatabase(db, databaseUrl);
    if (applied.length > 0) logger.info({ migrations: applied.length }, 'database migrated');

    const sharedState = config.redisUrl
      ? createRedisSharedState(config.redisUrl, logger)
      : createInProcessSharedState();
    cleanups.push(() => sharedState.close());
    if (sharedState.kind === 'in-process') {
      logger.info('REDIS_URL not set: settings changes and shared state stay in this process');
    }

    const settings = createSettingsService({
      db,
      defaults: defaultSettings(config),
      sharedState,
      logger,
      // Other replicas' changes are seen only while Redis is connected; otherwise trust a copy briefly.
      cacheTtlMs: () => (sharedState.kind === 'redis' && sharedState.connected() ? 30_000 : 1_000),
    });
    await settings.start();

    if (config.createDemoFlow && (await seedDemoFlowIfEmpty(db))) {
      logger.info('empty database: created the demo flow');
    }

    const deps: CoreDeps = { config, db, databaseUrl, logger, sharedState, settings };
    const metrics = createServiceMetrics(deps);
    // One socket per call the send stage may have in flight: with fewer, the calls past the pool's
    // size would wait inside the agent for a socket, that wait counted against GOSAC_TIMEOUT.
    const gosac = createGosacClient({ ...config.gosac, production: config.production, logger, maxSockets: config.worker.sendConcurrency });
    if (!gosac.live) logger.warn('GOSAC_AUTHORIZATION_KEY not set: replies are logged and stored as dry_run');

    // The worker role: the step engine and the send stage, two loops woken by NOTIFY (ADR 0004).
    let engine: StepEngine | undefined;
    let sendStage: SendStage | undefined;
    let actions: ActionExecutor | undefined;
    let timerStage: TimerStage | undefined;
    // One thread takes webhooks and steps conversations only in ROLE=both: there, webhooks first.
    const priority = config.role === 'both' ? createIntakePriority() : noIntakePriority;
    if (config.role !== 'web') {
      const listener = createPgListener(databaseUrl, logger.child({ component: 'pg-listener' }));
      cleanups.push(() => listener.close());
      sendStage = createSendStage({
        db,
        gosac,
        logger,
        listener,
        options: {
          concurrency: config.worker.sendConcurrency,
          leaseMs: sendLeaseMs(config.gosac.timeoutMs),
          idlePollMs: config.worker.pollIntervalMs,
        },
        metrics,
      });
      const stage = sendStage;
      const flowVersions = createFlowVersionStore(deps);
      // Live inspection: frames of committed steps, published for viewers on any replica (SPEC §9).
      const inspection = createInspectionPublisher({ channels: inspectionChannels(databaseUrl), sharedState, logger });
      await inspection.start();
      cleanups.push(() => inspection.close());
      engine = createStepEngine({
        ...deps,
        flowVersions,
        listener,
        options: {
          batchSize: config.worker.stepBatchSize,
          concurrency: config.worker.stepConcurrency,
          idlePollMs: config.worker.pollIntervalMs,
        },
        onReplies: () => stage.poke(),
        sends: stage,
        onActions: () => actions?.poke(),
        inspection,
        priority,
        onCommitted: (writes) => {
          recordCommittedSteps(metrics, writes.processed, Date.now());
          inspection.publish(writes);
        },
      });
      // SPEC §8: flow actions and received files' downloads (ADR 0008).
      const storage = createDiskFileStorage(config.files.dir);
      const timeoutMs = config.actions.timeoutMs;
      const steps = engine;
      actions = createActionExecutor({
        db,
        logger,
        listener,
        onOutcome: () => steps.poke(),
        onCounted: (type, result) => metrics.actions.inc({ type, result }),
        handlers: createActionHandlers({
          db,
          storage,
          maxFileBytes: config.files.maxBytes,
          downloader: createFileDownloader({ storage, maxBytes: config.files.maxBytes, timeoutMs, gosac: config.gosac }),
          pontta: createPonttaClient({ db, logger, options: { ...config.pontta, timeoutMs } }),
          google: createGoogleClient({ db, logger, options: { ...config.google, timeoutMs } }),
          http: createHttpActionClient({ timeoutMs }),
        }),
        options: {
          concurrency: config.actions.concurrency,
          leaseMs: config.actions.leaseMs,
          maxAttempts: config.actions.maxAttempts,
          retryBaseMs: config.actions.retryBaseMs,
          idlePollMs: config.worker.pollIntervalMs,
          ...options.actionHooks,
        },
      });
      const actionExecutor = actions;
      // Durable machine timers (ADR 0007): a third loop, fed through the same step path.
      timerStage = createTimerStage({
        ...deps,
        flowVersions,
        listener,
        // Timer steps are lighter than input steps (no inbox): bigger batches (bench/README.md).
        options: { batchSize: config.worker.stepBatchSize * 4, concurrency: config.worker.stepConcurrency, idlePollMs: config.worker.pollIntervalMs },
        onReplies: () => stage.poke(),
        priority,
      });
      await sendStage.start();
      await engine.start();
      await timerStage.start();
      await actionExecutor.start();
      cleanups.push(() => actionExecutor.stop());
      const running = engine;
      const timers = timerStage;
      // Steps first, so their last replies are in the outbox; then half the budget for GOSAC calls.
      const sendGraceMs = Math.max(500, Math.floor(config.shutdownTimeoutMs / 2));
      cleanups.push(async () => {
        await timers.stop();
        await running.stop();
        await stage.stop(sendGraceMs);
      });
    }
    const workerRunning = () =>
      (engine?.running() ?? false) && (sendStage?.running() ?? false) && (timerStage?.running() ?? false) && (actions?.running() ?? false);

    let url: string | undefined;
    if (config.role !== 'worker') {
      // This process's own step engine when it has one; otherwise the workers, through NOTIFY.
      const inboxWake = createWakeNotifier(db, INBOX_CHANNEL);
      const intake = createIntakeService({ ...deps, onQueued: engine ? () => engine?.poke() : () => inboxWake.notify() });
      const app = createHttpApp(
        deps,
        [
          createWebhookRouter({ ...deps, intake }),
          createAdminRouter({ ...deps, workerRunning, services: buildAdminServices(deps) }),
          createInspectionRouter({ ...deps, metrics }),
        ],
        { metrics },
      );
      const handle = app.callback();
      let draining = false;
      const server = await listen(
        (request, response) => {
          if (draining) return refuseWhileDraining(response);
          if (request.method === 'POST' && request.url?.startsWith('/webhook')) response.once('close', priority.begin());
          return handle(request, response);
        },
        config.port,
        config.host,
      );
      const hub = createInspectionHub(deps);
      server.on('upgrade', (request, socket, head) => hub.handleUpgrade(request, socket, head as Buffer));
      // Stop taking requests first, so nothing is accepted after the database starts closing.
      cleanups.push(() => {
        draining = true;
        return closeServer(server);
      });
      // Runs before the server closes: open WebSockets would keep it from closing.
      cleanups.push(() => hub.close());
      const address = server.address() as AddressInfo;
      url = `http://127.0.0.1:${address.port}`;
      logger.info({ port: address.port, role: config.role }, 'listening');
    }

    return { deps, url, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

// Outside production an unset admin token would lock the operator out of the API on a laptop: a
// random one is made once, kept in the data folder (never in the log) and reused on restarts.
async function withDevelopmentAdminToken(config: Config, logger: Logger): Promise<Config> {
  if (config.adminApiToken || config.production) return config;
  const file = path.resolve(config.dataDir, 'admin-token');
  let token = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (token.length < 32) {
    token = randomBytes(24).toString('hex');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${token}\n`, { mode: 0o600 });
  }
  logger.warn({ file }, 'ADMIN_API_TOKEN not set: using the development token kept in this file');
  return Object.freeze({ ...config, adminApiToken: token });
}

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

async function listen(
  handler: Parameters<typeof import('node:http').createServer>[1],
  port: number,
  host: string,
): Promise<Server> {
  const { createServer } = await import('node:http');
  const server = createServer(handler);
  // A client that reuses an idle connection just as the server closes it gets a reset (GOSAC
  // resends the webhook, but it arrives late). Clients and load balancers keep idle connections
  // for up to 60 s (Node's own agent: 5 s, the old value here): the server outwaits them all.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

// A request on a kept-alive connection during shutdown: GOSAC retries a 503, so nothing is lost.
function refuseWhileDraining(response: ServerResponse): void {
  response.writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '5' });
  response.end(JSON.stringify({ errors: ['shutting down'] }));
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // Connections that finish their last request become idle later: close those as they appear.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(sweeper);
      resolve();
    });
    server.closeIdleConnections();
  });
}
