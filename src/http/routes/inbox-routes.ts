import Router from '@koa/router';
import { z } from 'zod';
import { inboxListQuerySchema, inboxRowSchema, type InboxQueries } from '../../conversations/inbox-queries.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseQuery } from '../validation.js';

/** Contacts' messages no step has consumed yet: the ones a failing step keeps stuck, or all of them. */
export function createInboxRoutes(deps: { readonly inbox: InboxQueries }): Router {
  const router = new Router();
  router.get('/inbox', async (ctx) => {
    const page = await deps.inbox.list(parseQuery(inboxListQuerySchema, ctx.query));
    ctx.set('X-Total-Count', String(page.total));
    ctx.body = page.rows;
  });
  return router;
}

export const inboxRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/inbox',
    tag: 'inbox',
    summary:
      "Inbound messages still waiting for a step (status 'received'), oldest first. status=stuck (default) keeps those a step failed on (last_error, attempts) or that are over a minute past their due time: contacts the bot is not answering. The X-Total-Count header gives the number of matches.",
    query: inboxListQuerySchema,
    response: { status: 200, schema: z.array(inboxRowSchema) },
    errors: [400],
  },
];
