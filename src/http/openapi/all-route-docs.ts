import { analyticsRouteDocs } from '../routes/analytics-routes.js';
import { botRouteDocs } from '../routes/bot-routes.js';
import { conversationRouteDocs } from '../routes/conversation-routes.js';
import { actionRouteDocs } from '../../actions/action-routes.js';
import { deliveryRouteDocs } from '../routes/delivery-routes.js';
import { exportImportRouteDocs } from '../routes/export-import-routes.js';
import { flowRouteDocs } from '../routes/flow-routes.js';
import { flowToolingRouteDocs } from '../routes/flow-tooling-routes.js';
import { healthRouteDocs } from '../routes/health-routes.js';
import { inboxRouteDocs } from '../routes/inbox-routes.js';
import { messageRouteDocs } from '../routes/message-routes.js';
import { openApiRouteDocs } from '../routes/openapi-routes.js';
import { readinessRouteDocs } from '../routes/readiness-routes.js';
import { settingsRouteDocs } from '../routes/settings-routes.js';
import { subflowRouteDocs } from '../routes/subflow-routes.js';
import { templateRouteDocs } from '../routes/template-routes.js';
import { webhookRouteDocs } from '../routes/webhook-routes.js';
import type { RouteDoc } from './route-doc.js';

/** Every route the service answers; a test walks the routers and fails on any difference. */
export const allRouteDocs: readonly RouteDoc[] = [
  ...healthRouteDocs,
  ...readinessRouteDocs,
  ...webhookRouteDocs,
  ...templateRouteDocs,
  ...flowRouteDocs,
  ...subflowRouteDocs,
  ...messageRouteDocs,
  ...flowToolingRouteDocs,
  ...conversationRouteDocs,
  ...analyticsRouteDocs,
  ...exportImportRouteDocs,
  ...settingsRouteDocs,
  ...botRouteDocs,
  ...deliveryRouteDocs,
  ...actionRouteDocs,
  ...inboxRouteDocs,
  ...openApiRouteDocs,
];
