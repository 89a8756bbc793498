import Koa from 'koa';
import type Router from '@koa/router';
import type { CoreDeps } from '../app-deps.js';
import type { ServiceMetrics } from '../inspection/metrics.js';
import { cors } from './middleware/cors.js';
import { errorHandler, jsonFallbacks } from './middleware/error-handler.js';
import { jsonBody } from './middleware/json-body.js';
import { rateLimit } from './middleware/rate-limit.js';
import { requestContext } from './middleware/request-context.js';
import { securityHeaders } from './middleware/security-headers.js';

/**
 * The Koa application: cross-cutting middleware first (so every answer, errors included, has a
 * request id, security and CORS headers), then the routers, then the JSON 404.
 */
export function createHttpApp(deps: CoreDeps, routers: Router[], options: { metrics?: Pick<ServiceMetrics, 'webhooks'> } = {}): Koa {
  // Behind a proxy every client would share the proxy's address (one rate-limit budget for all).
  const app = new Koa({ proxy: deps.config.trustProxy });
  // Errors are answered and logged by errorHandler; this only sees failures after the answer
  // started (a client hanging up mid-stream), which Koa would otherwise print to stderr.
  app.on('error', (error: unknown) => {
    deps.logger.warn({ err: error }, 'http error outside a request handler');
  });

  app.use(requestContext(deps.logger));
  const { metrics } = options;
  if (metrics) {
    // Outside the error handler: counts the status every webhook was finally answered with.
    app.use(async (ctx, next) => {
      if (ctx.path !== '/webhook') return next();
      try {
        await next();
      } finally {
        metrics.webhooks.inc({ status: String(ctx.status) });
      }
    });
  }
  app.use(securityHeaders({ production: deps.config.production }));
  app.use(cors(deps.config.allowedOrigins));
  app.use(errorHandler(deps.logger));
  app.use(jsonFallbacks());
  // Before the body parser: a throttled client's body is not even read.
  app.use(
    rateLimit({
      rules: [
        { prefix: '/api', limit: deps.config.rateLimit.apiPerMinute },
        { prefix: '/webhook', limit: deps.config.rateLimit.webhookPerMinute },
      ],
      redis: deps.sharedState.redisClient,
      logger: deps.logger,
    }),
  );
  app.use(jsonBody());
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
