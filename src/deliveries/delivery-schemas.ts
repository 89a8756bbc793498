import { z } from 'zod';
import { contactIdQueryField, pagingQueryFields } from '../http/query-schemas.js';

// Outbound message_history rows seen as deliveries to GOSAC. Query strings arrive as text.

export const deliveryStatuses = ['pending', 'failed', 'sent', 'dry_run', 'cancelled'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];


export const deliveryListQuerySchema = z.object({
  status: z
    .enum(deliveryStatuses, { error: `must be one of ${deliveryStatuses.join(', ')}` })
    .optional()
    .describe(
      'pending (waiting, in flight or backing off), failed (gave up: see last_error), sent, dry_run, cancelled (not sent: the conversation was paused, closed or reset, or a newer input superseded it); all when omitted',
    ),
  contact_id: contactIdQueryField,
  ...pagingQueryFields,
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
