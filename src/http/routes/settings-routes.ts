import Router from '@koa/router';
import { z } from 'zod';
import type { SettingsService } from '../../settings/settings-service.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { statusSchema } from '../openapi/common-schemas.js';
import { parseBody } from '../validation.js';

export const settingChangeSchema = z.object({
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

const settingViewSchema = z.object({
  value: z.unknown(),
  type: z.enum(['string', 'boolean', 'number', 'json']),
  description: z.string(),
  source: z.enum(['database', 'environment']),
});

export const settingsRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/settings',
    tag: 'settings',
    summary: 'Every known setting in force: {KEY: {value, type, description, source}} (database over environment)',
    response: { status: 200, schema: z.record(z.string(), settingViewSchema) },
  },
  {
    method: 'put',
    path: '/api/settings/:key',
    tag: 'settings',
    summary: 'Store a setting (400 for an unknown key or a value of the wrong type); obeyed by every replica on the next webhook',
    body: settingChangeSchema,
    response: { status: 200, schema: statusSchema('updated') },
    errors: [400],
  },
];
