import Router from '@koa/router';
import { z } from 'zod';
import type { ConversationAdminService } from '../../conversations/conversation-admin-service.js';
import { conversationListQuerySchema } from '../../conversations/conversation-admin-schemas.js';
import type { ConversationQueries } from '../../conversations/conversation-queries.js';
import { statusSchema } from '../openapi/common-schemas.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseIdParam, parseQuery } from '../validation.js';

// Conversation ids are BIGINT: allow the whole safe-integer range.
const parseConversationId = (value: string | undefined) => parseIdParam(value, 'id', Number.MAX_SAFE_INTEGER);

export interface ConversationRouteDeps {
  readonly conversations: ConversationQueries;
  readonly conversationAdmin: ConversationAdminService;
}

export function createConversationRoutes(deps: ConversationRouteDeps): Router {
  const router = new Router();
  router.get('/conversations', async (ctx) => {
    const page = await deps.conversations.list(parseQuery(conversationListQuerySchema, ctx.query));
    ctx.set('X-Total-Count', String(page.total));
    ctx.body = page.rows;
  });
  router.get('/conversations/:id', async (ctx) => {
    ctx.body = await deps.conversations.get(parseConversationId(ctx.params.id));
  });
  router.get('/conversations/:id/history', async (ctx) => {
    ctx.body = await deps.conversations.history(parseConversationId(ctx.params.id));
  });
  router.post('/conversations/:id/close', async (ctx) => {
    await deps.conversationAdmin.close(parseConversationId(ctx.params.id));
    ctx.body = { status: 'closed' };
  });
  router.post('/conversations/:id/reset', async (ctx) => {
    await deps.conversationAdmin.reset(parseConversationId(ctx.params.id));
    ctx.body = { status: 'reset' };
  });
  router.post('/conversations/:id/pause', async (ctx) => {
    await deps.conversationAdmin.pause(parseConversationId(ctx.params.id));
    ctx.body = { status: 'paused' };
  });
  router.post('/conversations/:id/resume', async (ctx) => {
    await deps.conversationAdmin.resume(parseConversationId(ctx.params.id));
    ctx.body = { status: 'resumed' };
  });
  return router;
}

const conversationSummarySchema = z.looseObject({
  id: z.int(),
  contact_id: z.int(),
  contact_name: z.string().nullable(),
  contact_number: z.string().nullable(),
  ticket_id: z.int().nullable(),
  flow_id: z.int(),
  current_flow_id: z.int().describe('the flow the conversation runs on (same as flow_id; the front end reads this name)'),
  flow_version_id: z.int(),
  current_subflow_id: z.int().nullable(),
  current_message_id: z.int().nullable(),
  variables: z.record(z.string(), z.string()),
  is_active: z.boolean(),
  is_completed: z.boolean(),
  closed_reason: z.string().nullable(),
  bot_paused: z.boolean(),
  bot_paused_at: z.string().nullable(),
  started_at: z.string(),
  last_activity_at: z.string(),
  last_interaction: z.string().describe('last message in or out (same as last_activity_at; the front end reads this name)'),
  completed_at: z.string().nullable(),
  template_id: z.int().nullable(),
  template_name: z.string().nullable(),
  flow_name: z.string().nullable(),
  subflow_name: z.string().nullable(),
  current_message: z.string().nullable(),
});

const historyRowSchema = z.object({
  id: z.int(),
  conversation_id: z.int().nullable(),
  contact_id: z.int(),
  ticket_id: z.int().nullable(),
  message_text: z.string().describe('the text received or sent (a file: its caption)'),
  message_type: z.string().describe('GOSAC media type: text, application, ...'),
  media_url: z.string().nullable(),
  media_path: z.string().nullable(),
  is_from_bot: z.boolean().describe('true for the bot\'s replies, false for the contact\'s messages'),
  flow_message_id: z.int().nullable().describe('the flow message a reply was sent for'),
  created_at: z.string(),
  direction: z.enum(['inbound', 'outbound']).describe('inbound: from the contact; outbound: from the bot (is_from_bot)'),
  body: z.string().describe('same as message_text'),
  media_type: z.string().describe('same as message_type'),
  status: z.string().describe('inbound: received, processed; outbound: pending, sent, failed, dry_run, cancelled'),
  due_at: z.string().nullable().describe('when a pending reply is (or was) due'),
  sent_at: z.string().nullable(),
  reason: z.string().nullable(),
});

const tag = 'conversations';
const control = [400, 404, 409];

export const conversationRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/conversations',
    tag,
    summary:
      'Conversations, most recently active first (default: the 50 most recent active ones). Always an array; the X-Total-Count header gives the number of matches for pagination.',
    query: conversationListQuerySchema,
    response: { status: 200, schema: z.array(conversationSummarySchema) },
    errors: [400],
  },
  {
    method: 'get',
    path: '/api/conversations/:id',
    tag,
    summary: 'One conversation, active or not, with its persisted machine snapshot (conversation_state)',
    response: { status: 200, schema: conversationSummarySchema.extend({ conversation_state: z.unknown() }) },
    errors: [400, 404],
  },
  {
    method: 'get',
    path: '/api/conversations/:id/history',
    tag,
    summary: 'Inbound and outbound messages of a conversation, oldest first',
    response: { status: 200, schema: z.array(historyRowSchema) },
    errors: [400, 404],
  },
  {
    method: 'post',
    path: '/api/conversations/:id/close',
    tag,
    summary:
      "Close an active conversation (closed_reason 'closed_by_admin'). The bot sends nothing; the contact's next message starts a new conversation on the default flow. 409 when it is not active.",
    response: { status: 200, schema: statusSchema('closed') },
    errors: control,
  },
  {
    method: 'post',
    path: '/api/conversations/:id/reset',
    tag,
    summary:
      "Start the contact over: the conversation is closed (closed_reason 'reset') and NOTHING is sent now (an unprompted greeting could land in the middle of an agent's chat or outside WhatsApp's reply window); the contact's next message starts a new conversation on the current default flow and gets its greeting. Replies already queued before the reset still go out. 409 when it is not active.",
    response: { status: 200, schema: statusSchema('reset') },
    errors: control,
  },
  {
    method: 'post',
    path: '/api/conversations/:id/pause',
    tag,
    summary:
      "A human agent takes over: while paused the contact's messages are stored in the history but the bot answers nothing, the conversation does not move and it does not time out. Replies queued before the pause still go out. 409 when the conversation is not active or already paused.",
    response: { status: 200, schema: statusSchema('paused') },
    errors: control,
  },
  {
    method: 'post',
    path: '/api/conversations/:id/resume',
    tag,
    summary:
      "The bot takes over again from where the conversation stood: it sends nothing now and answers the contact's next message from the current position (messages received while paused are not replayed). 409 when the conversation is not active or not paused.",
    response: { status: 200, schema: statusSchema('resumed') },
    errors: control,
  },
];
