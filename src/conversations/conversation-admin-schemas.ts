import { z } from 'zod';

// Query strings arrive as text; numbers are coerced, and every problem names its parameter.

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const conversationStatuses = ['active', 'paused', 'completed', 'closed', 'all'] as const;

export const conversationListQuerySchema = z.object({
  status: z
    .enum(conversationStatuses, { error: `must be one of ${conversationStatuses.join(', ')}` })
    .default('active')
    .describe('active (default; paused ones included), paused (a human agent took over), completed (the flow ran to its end), closed (ended otherwise: by an admin, reset, timeout), all'),
  contact_id: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional().describe('only this GOSAC contact'),
  flow_id: wholeNumber(1, 2_147_483_647).optional().describe('only conversations on this flow'),
  limit: wholeNumber(1, 200).default(50).describe('page size, 1..200 (default 50)'),
  offset: wholeNumber(0, 1_000_000_000).default(0).describe('rows to skip (default 0)'),
});

export type ConversationListQuery = z.output<typeof conversationListQuerySchema>;
export type ConversationStatusFilter = ConversationListQuery['status'];
