import Router from '@koa/router';
import { z } from 'zod';
import type { SettingsService } from '../../settings/settings-service.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseBody } from '../validation.js';

const ACTOR = 'admin';

const testModeSchema = z.object({
  enabled: z.boolean({ error: (issue) => (issue.input === undefined ? 'required' : 'must be true or false') }),
  // GOSAC contact ids are numbers; the setting stores them as text.
  contact_id: z
    .union([z.string().trim().max(64), z.int().positive()], { error: 'must be a contact id (text or number)' })
    .transform(String)
    .nullable()
    .optional(),
});

/** The bot's switches: thin views over the settings service, which validates and logs. */
export function createBotRoutes(deps: { readonly settings: SettingsService }): Router {
  const router = new Router();
  router.get('/bot/status', async (ctx) => {
    const current = await deps.settings.current();
    ctx.body = {
      bot_enabled: current.BOT_ENABLED,
      bot_status: current.BOT_STATUS,
      test_mode: current.TEST_MODE,
      test_contact_id: current.TEST_CONTACT_ID,
      debounce_time: current.DEBOUNCE_TIME,
    };
  });
  router.post('/bot/enable', async (ctx) => {
    await deps.settings.update('BOT_ENABLED', { value: true }, ACTOR);
    ctx.body = { status: 'enabled' };
  });
  router.post('/bot/disable', async (ctx) => {
    await deps.settings.update('BOT_ENABLED', { value: false }, ACTOR);
    ctx.body = { status: 'disabled' };
  });
  router.post('/bot/test-mode', async (ctx) => {
    const input = parseBody(testModeSchema, ctx.request.body);
    // The contact first: turning test mode on must never briefly allow the previous contact.
    if (input.contact_id !== undefined) {
      await deps.settings.update('TEST_CONTACT_ID', { value: input.contact_id ?? '' }, ACTOR);
    }
    await deps.settings.update('TEST_MODE', { value: input.enabled }, ACTOR);
    const current = await deps.settings.current();
    ctx.body = { test_mode: current.TEST_MODE, test_contact_id: current.TEST_CONTACT_ID };
  });
  return router;
}

const tag = 'bot';

export const botRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/bot/status',
    tag,
    summary: "The bot's switches as in force now",
    response: {
      status: 200,
      schema: z.object({
        bot_enabled: z.boolean(),
        bot_status: z.enum(['active', 'paused', 'maintenance']),
        test_mode: z.boolean(),
        test_contact_id: z.string(),
        debounce_time: z.int(),
      }),
    },
  },
  { method: 'post', path: '/api/bot/enable', tag, summary: 'Turn the bot on (BOT_ENABLED=true)', response: { status: 200, schema: z.object({ status: z.literal('enabled') }) } },
  { method: 'post', path: '/api/bot/disable', tag, summary: 'Turn the bot off (BOT_ENABLED=false)', response: { status: 200, schema: z.object({ status: z.literal('disabled') }) } },
  {
    method: 'post',
    path: '/api/bot/test-mode',
    tag,
    summary: 'Turn test mode on or off, optionally naming the one contact answered',
    body: testModeSchema,
    response: { status: 200, schema: z.object({ test_mode: z.boolean(), test_contact_id: z.string() }) },
  },
];
