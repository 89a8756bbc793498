import { z } from 'zod';

// Outbound message_history rows seen as deliveries to GOSAC. Query strings arrive as text.

export const deliveryStatuses = ['pending', 'failed', 'sent', 'dry_run'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

const wholeNumber = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const deliveryListQuerySchema = z.object({
  status: z
    .enum(deliveryStatuses, { error: `must be one of ${deliveryStatuses.join(', ')}` })
    .optional()
    .describe('pending (waiting or backing off), failed (gave up: see last_error), sent, dry_run; all when omitted'),
  contact_id: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional().describe('only this GOSAC contact'),
  limit: wholeNumber(1, 200).default(50).describe('page size, 1..200 (default 50)'),
  offset: wholeNumber(0, 1_000_000_000).default(0).describe('rows to skip (default 0)'),
});
export type DeliveryListQuery = z.output<typeof deliveryListQuerySchema>;

export const deliveryRowSchema = z.object({
  id: z.int(),
  conversation_id: z.int().nullable(),
  contact_id: z.int(),
  ticket_id: z.int().nullable(),
  body: z.string(),
  status: z.enum(deliveryStatuses),
  reason: z.string().nullable(),
  attempts: z.int(),
  last_error: z.string().nullable(),
  due_at: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
});

export const deliveryRetriedSchema = z.object({ id: z.int(), status: z.literal('pending') });
