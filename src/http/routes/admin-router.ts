import Router from '@koa/router';
import type { AdminServices } from '../../admin-services.js';
import type { CoreDeps } from '../../app-deps.js';
import { allRouteDocs } from '../openapi/all-route-docs.js';
import { requireAdminToken } from '../middleware/admin-auth.js';
import { createAnalyticsRoutes } from './analytics-routes.js';
import { createBotRoutes } from './bot-routes.js';
import { createConversationRoutes } from './conversation-routes.js';
import { createExportImportRoutes } from './export-import-routes.js';
import { createActionRoutes } from '../../actions/action-routes.js';
import { createDeliveryRoutes } from './delivery-routes.js';
import { createFlowRoutes } from './flow-routes.js';
import { createFlowToolingRoutes } from './flow-tooling-routes.js';
import { createHealthRoutes } from './health-routes.js';
import { createInboxRoutes } from './inbox-routes.js';
import { createMessageRoutes } from './message-routes.js';
import { createOpenApiRoutes } from './openapi-routes.js';
import { createReadinessRoutes } from './readiness-routes.js';
import { createSettingsRoutes } from './settings-routes.js';
import { createSubflowRoutes } from './subflow-routes.js';
import { createTemplateRoutes } from './template-routes.js';

/** GET /health (open) and the admin API under /api (bearer token), one sub-router per resource. */
export function createAdminRouter(
  deps: CoreDeps & { readonly workerRunning: () => boolean; readonly services: AdminServices },
): Router {
  const { flows, conversations, conversationAdmin, tooling, analytics, transfer, deliveries, inbox } = deps.services;

  const api = new Router({ prefix: '/api' });
  api.use(requireAdminToken(deps.config.adminApiToken));
  for (const resource of [
    createTemplateRoutes({ flows }),
    createFlowRoutes({ flows }),
    createSubflowRoutes({ flows }),
    createMessageRoutes({ flows }),
    createFlowToolingRoutes({ tooling }),
    createOpenApiRoutes({ docs: allRouteDocs }),
    createConversationRoutes({ conversations, conversationAdmin }),
    createAnalyticsRoutes({ analytics }),
    createExportImportRoutes({ transfer }),
    createSettingsRoutes(deps),
    createBotRoutes(deps),
    createDeliveryRoutes({ deliveries }),
    createInboxRoutes({ inbox }),
    createActionRoutes({ db: deps.db }),
  ]) {
    api.use(resource.routes());
  }

  const router = new Router();
  router.use(createHealthRoutes(deps).routes());
  router.use(createReadinessRoutes(deps).routes());
  router.use(api.routes());
  return router;
}
