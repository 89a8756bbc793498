import Router from '@koa/router';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { RouteDoc } from '../http/openapi/route-doc.js';
import { contactIdQueryField, pagingQueryFields } from '../http/query-schemas.js';
import { parseIdParam, parseQuery } from '../http/validation.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { listRuns, retryRun } from './action-run-repository.js';

// SPEC §8: flow actions (and received files' downloads) as operators see them: what failed, and
// a way to run it again.

export const actionStatuses = ['pending', 'succeeded', 'failed'] as const;

export const actionListQuerySchema = z.object({
  status: z
    .enum(actionStatuses, { error: `must be one of ${actionStatuses.join(', ')}` })
    .optional()
    .describe('pending (waiting, running or backing off), succeeded, failed (gave up: see last_error); all when omitted'),
  contact_id: contactIdQueryField,
  ...pagingQueryFields,
});

export const actionRunSchema = z.object({
  id: z.int(),
  conversation_id: z.int().nullable(),
  contact_id: z.int(),
  flow_message_id: z.int().nullable(),
  action_index: z.int(),
  action_type: z.string().describe('pontta.create_occurrence, pontta.attach_files, drive.upload_files, sheets.append_row, http.post, or file.download'),
  action: z.record(z.string(), z.unknown()).describe('the action with its templates filled in'),
  status: z.enum(actionStatuses),
  attempts: z.int(),
  result: z.string().nullable(),
  last_error: z.string().nullable(),
  due_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  fed_at: z.string().nullable().describe('when the outcome went back to the conversation'),
  created_at: z.string(),
});

export const actionRetriedSchema = z.object({ id: z.int(), status: z.literal('pending') });

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

export function createActionRoutes(deps: { readonly db: Knex }): Router {
  const router = new Router();
  router.get('/actions', async (ctx) => {
    const query = parseQuery(actionListQuerySchema, ctx.query);
    const page = await listRuns(deps.db, { status: query.status, contactId: query.contact_id, limit: query.limit, offset: query.offset });
    ctx.set('X-Total-Count', String(page.total));
    ctx.body = page.rows.map((row) => ({
      id: Number(row.id),
      conversation_id: row.conversation_id === null ? null : Number(row.conversation_id),
      contact_id: Number(row.contact_id),
      flow_message_id: row.flow_message_id,
      action_index: row.action_index,
      action_type: row.action_type,
      action: row.action,
      status: row.status,
      attempts: row.attempts,
      result: row.result,
      last_error: row.last_error,
      due_at: iso(row.due_at),
      finished_at: iso(row.finished_at),
      fed_at: iso(row.fed_at),
      created_at: iso(row.created_at),
    }));
  });
  router.post('/actions/:id/retry', async (ctx) => {
    const id = parseIdParam(ctx.params.id, 'id', Number.MAX_SAFE_INTEGER);
    const outcome = await retryRun(deps.db, id);
    if (outcome === 'not_found') throw new NotFoundError(`action ${id} not found`);
    if (outcome === 'not_failed') throw new ConflictError(`action ${id} has not failed`);
    await deps.db.raw("SELECT pg_notify('flowbot_actions', '')");
    ctx.body = { id, status: 'pending' };
  });
  return router;
}

const tag = 'actions';

export const actionRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/actions',
    tag,
    summary: 'Flow actions and file downloads (action_runs), newest first; filter by status and contact. X-Total-Count gives the number of matches.',
    query: actionListQuerySchema,
    response: { status: 200, schema: z.array(actionRunSchema) },
    errors: [400],
  },
  {
    method: 'post',
    path: '/api/actions/:id/retry',
    tag,
    summary:
      'Run a failed action again (attempts reset, due now). Its conversation went on after the failure, so the new outcome is recorded on the run, not fed back. 404 for an unknown id, 409 when it is not failed.',
    response: { status: 200, schema: actionRetriedSchema },
    errors: [400, 404, 409],
  },
];
