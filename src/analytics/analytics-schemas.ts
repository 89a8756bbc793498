import { z } from 'zod';

const isoDateOrTime = z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
  error: 'must be an ISO date (YYYY-MM-DD) or date-time (2026-11-24T15:00:00Z)',
});

/** `from`/`to` of every analytics route: whole days in TIMEZONE when given as dates, both ends included. */
export const analyticsRangeQuerySchema = z.object({
  from: isoDateOrTime.optional().describe('first day (or instant) counted; default: 29 days before `to`'),
  to: isoDateOrTime.optional().describe('last day (or instant) counted, included; default: today (in TIMEZONE)'),
});

const timezone = z.string().describe('the TIMEZONE setting the days were counted in');

export type AnalyticsRangeQuery = z.output<typeof analyticsRangeQuerySchema>;

export const conversationAnalyticsSchema = z.object({
  from: z.string(),
  to: z.string(),
  timezone,
  by_status: z.array(z.object({ status: z.enum(['active', 'paused', 'completed', 'closed']), count: z.int() })),
  by_flow: z.array(z.object({ flow_id: z.int(), flow_name: z.string(), count: z.int() })),
  daily_messages: z.array(z.object({ date: z.iso.date(), inbound: z.int(), outbound: z.int() })),
});

export const fileAnalyticsSchema = z.object({
  from: z.string(),
  to: z.string(),
  timezone,
  files_by_type: z.array(z.object({ file_type: z.string(), count: z.int(), avg_size_mb: z.number().nullable() })),
});

export const funnelSchema = z.object({
  flow_id: z.int(),
  flow_name: z.string(),
  from: z.string(),
  to: z.string(),
  timezone,
  conversations: z.int(),
  steps: z.array(
    z.object({
      subflow_id: z.int(),
      subflow_name: z.string(),
      message_id: z.int(),
      message_text: z.string(),
      reached: z.int(),
      stopped: z.int(),
      waiting: z.int(),
    }),
  ),
});

export type ConversationAnalytics = z.output<typeof conversationAnalyticsSchema>;
export type FileAnalytics = z.output<typeof fileAnalyticsSchema>;
export type Funnel = z.output<typeof funnelSchema>;
