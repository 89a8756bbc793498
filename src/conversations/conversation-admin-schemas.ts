import { z } from 'zod';
import { contactIdQueryField, pagingQueryFields, queryWholeNumber } from '../http/query-schemas.js';

// Query strings arrive as text; numbers are coerced, and every problem names its parameter.


export const conversationStatuses = ['active', 'paused', 'completed', 'closed', 'all'] as const;

export const conversationListQuerySchema = z.object({
  status: z
    .enum(conversationStatuses, { error: `must be one of ${conversationStatuses.join(', ')}` })
    .default('active')
    .describe('active (default; paused ones included), paused (a human agent took over), completed (the flow ran to its end), closed (ended otherwise: by an admin, reset, timeout), all'),
  contact_id: contactIdQueryField,
  flow_id: queryWholeNumber(1, 2_147_483_647).optional().describe('only conversations on this flow'),
  ...pagingQueryFields,
});

export type ConversationListQuery = z.output<typeof conversationListQuerySchema>;
export type ConversationStatusFilter = ConversationListQuery['status'];
