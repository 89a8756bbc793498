import { createAnalyticsService, type AnalyticsService } from './analytics/analytics-service.js';
import type { CoreDeps } from './app-deps.js';
import { createConversationAdminService, type ConversationAdminService } from './conversations/conversation-admin-service.js';
import { createConversationQueries, type ConversationQueries } from './conversations/conversation-queries.js';
import { createInboxQueries, type InboxQueries } from './conversations/inbox-queries.js';
import { createDeliveryService, type DeliveryService } from './deliveries/delivery-service.js';
import { createFlowAdminService, type FlowAdminService } from './flows/flow-admin-service.js';
import { createFlowTooling, type FlowTooling } from './flows/flow-admin-tooling.js';
import { createFlowTransferService, type FlowTransferService } from './flows/flow-transfer-service.js';

/** The services behind the admin API, built once by the composition root (src/service.ts). */
export interface AdminServices {
  readonly flows: FlowAdminService;
  readonly tooling: FlowTooling;
  readonly transfer: FlowTransferService;
  readonly conversations: ConversationQueries;
  readonly conversationAdmin: ConversationAdminService;
  readonly analytics: AnalyticsService;
  readonly deliveries: DeliveryService;
  readonly inbox: InboxQueries;
}

export function buildAdminServices(deps: CoreDeps): AdminServices {
  return {
    flows: createFlowAdminService(deps),
    tooling: createFlowTooling(deps),
    transfer: createFlowTransferService(deps),
    conversations: createConversationQueries(deps),
    conversationAdmin: createConversationAdminService(deps),
    analytics: createAnalyticsService(deps),
    deliveries: createDeliveryService(deps),
    inbox: createInboxQueries(deps),
  };
}
