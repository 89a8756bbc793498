import { bootLogLevel, ConfigError, loadConfig } from './config.js';
import { EmbeddedPostgresError } from './db/embedded-postgres.js';
import { startService } from './service.js';
import { createLogger } from './shared/logger.js';

// Reports what happens before the configuration is valid: a bad LOG_LEVEL must not crash it (the
// validation names LOG_LEVEL instead), so it only takes LOG_LEVEL when that is a valid level.
// Readable lines in a terminal, JSON otherwise (shared/logger.ts).
const bootLogger = createLogger(bootLogLevel(), undefined, { output: process.stdout });

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      bootLogger.fatal(error.message);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, undefined, { output: process.stdout });
  const service = await startService(config, { logger });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than SHUTDOWN_TIMEOUT; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    deadline.unref();
    service.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // A known reason (the embedded database cannot run here) is one line saying what to do.
  if (error instanceof EmbeddedPostgresError) {
    bootLogger.fatal(error.message);
    process.exit(1);
  }
  bootLogger.fatal({ err: error instanceof Error ? error.stack : String(error) }, 'could not start');
  process.exit(1);
});
