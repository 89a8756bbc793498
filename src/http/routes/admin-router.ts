import Router from '@koa/router';
import type { CoreDeps } from '../../app-deps.js';
import { createConversationQueries } from '../../conversations/conversation-queries.js';
import { createFlowAdminService } from '../../flows/flow-admin-service.js';
import { requireAdminToken } from '../middleware/admin-auth.js';
import { createBotRoutes } from './bot-routes.js';
import { createConversationRoutes } from './conversation-routes.js';
import { createFlowRoutes } from './flow-routes.js';
import { createHealthRoutes } from './health-routes.js';
import { createMessageRoutes } from './message-routes.js';
import { createSettingsRoutes } from './settings-routes.js';
import { createSubflowRoutes } from './subflow-routes.js';
import { createTemplateRoutes } from './template-routes.js';

/** GET /health (open) and the admin API under /api (bearer token), one sub-router per resource. */
export function createAdminRouter(deps: CoreDeps & { readonly workerRunning: () => boolean }): Router {
  const flows = createFlowAdminService(deps);
  const conversations = createConversationQueries(deps);

  const api = new Router({ prefix: '/api' });
  api.use(requireAdminToken(deps.config.adminApiToken));
  for (const resource of [
    createTemplateRoutes({ flows }),
    createFlowRoutes({ flows }),
    createSubflowRoutes({ flows }),
    createMessageRoutes({ flows }),
    createConversationRoutes({ conversations }),
    createSettingsRoutes(deps),
    createBotRoutes(deps),
  ]) {
    api.use(resource.routes());
  }

  const router = new Router();
  router.use(createHealthRoutes(deps).routes());
  router.use(api.routes());
  return router;
}
