import Router from '@koa/router';
import { z } from 'zod';
import type { SettingsService } from '../../settings/settings-service.js';
import { parseBody } from '../validation.js';

const settingChangeSchema = z.object({
  value: z.unknown().refine((value) => value !== undefined, 'required'),
  type: z
    .enum(['string', 'boolean', 'number', 'json'], { error: 'must be one of string, boolean, number, json' })
    .optional(),
  description: z
    .string({ error: 'must be text' })
    .trim()
    .max(500, 'must be at most 500 characters')
    .optional(),
});

export function createSettingsRoutes(deps: { readonly settings: SettingsService }): Router {
  const router = new Router();
  router.get('/settings', async (ctx) => {
    ctx.body = await deps.settings.list();
  });
  router.put('/settings/:key', async (ctx) => {
    const change = parseBody(settingChangeSchema, ctx.request.body);
    // Keys are upper case; the settings service rejects unknown ones with a 400 naming `key`.
    await deps.settings.update((ctx.params.key ?? '').toUpperCase(), change, 'admin');
    ctx.body = { status: 'updated' };
  });
  return router;
}
