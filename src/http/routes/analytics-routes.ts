import Router from '@koa/router';
import type { AnalyticsService } from '../../analytics/analytics-service.js';
import {
  analyticsRangeQuerySchema,
  conversationAnalyticsSchema,
  fileAnalyticsSchema,
  funnelSchema,
} from '../../analytics/analytics-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseIdParam, parseQuery } from '../validation.js';

export function createAnalyticsRoutes(deps: { readonly analytics: AnalyticsService }): Router {
  const router = new Router();
  router.get('/analytics/conversations', async (ctx) => {
    ctx.body = await deps.analytics.conversations(parseQuery(analyticsRangeQuerySchema, ctx.query));
  });
  router.get('/analytics/files', async (ctx) => {
    ctx.body = await deps.analytics.files(parseQuery(analyticsRangeQuerySchema, ctx.query));
  });
  router.get('/analytics/funnel/:flowId', async (ctx) => {
    const flowId = parseIdParam(ctx.params.flowId, 'flowId');
    ctx.body = await deps.analytics.funnel(flowId, parseQuery(analyticsRangeQuerySchema, ctx.query));
  });
  return router;
}

const tag = 'analytics';
const range =
  'Days are days in the TIMEZONE setting (default America/Sao_Paulo; `timezone` in the answer). Last 30 days (today included) unless `from`/`to` are given (ISO dates are whole days in TIMEZONE, both included; date-times are instants; at most 366 days; 400 when invalid or from is after to).';

export const analyticsRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/analytics/conversations',
    tag,
    summary: `Conversations started in the range by status (active, paused, completed, closed; each counted once) and by flow, and messages per day in TIMEZONE (inbound: every message received; outbound: every reply the bot queued or sent, failed ones excluded). ${range}`,
    query: analyticsRangeQuerySchema,
    response: { status: 200, schema: conversationAnalyticsSchema },
    errors: [400],
  },
  {
    method: 'get',
    path: '/api/analytics/files',
    tag,
    summary: `Files received in the range by file type, with their count and average size in MB (null when no size is known). ${range}`,
    query: analyticsRangeQuerySchema,
    response: { status: 200, schema: fileAnalyticsSchema },
    errors: [400],
  },
  {
    method: 'get',
    path: '/api/analytics/funnel/:flowId',
    tag,
    summary: `Drop-off view of a flow, over the conversations that started on it in the range: one step per active message (subflow order, then message order). reached = conversations that were sent that message (outbound history rows with reason 'flow'; re-prompts do not count); stopped = conversations whose current message it is and that did not complete (abandoned, closed or still waiting there); waiting = those of them still active. ${range} 404 for an unknown flow.`,
    query: analyticsRangeQuerySchema,
    response: { status: 200, schema: funnelSchema },
    errors: [400, 404],
  },
];
