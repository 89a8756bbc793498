import Router from '@koa/router';
import { z } from 'zod';
import {
  deliveryListQuerySchema,
  deliveryRetriedSchema,
  deliveryRowSchema,
} from '../../deliveries/delivery-schemas.js';
import type { DeliveryService } from '../../deliveries/delivery-service.js';
import type { RouteDoc } from '../openapi/route-doc.js';
import { parseIdParam, parseQuery } from '../validation.js';

const ACTOR = 'admin';
const parseDeliveryId = (value: string | undefined) => parseIdParam(value, 'id', Number.MAX_SAFE_INTEGER);

/** Replies to GOSAC as deliveries: what failed, and a way to send it again. */
export function createDeliveryRoutes(deps: { readonly deliveries: DeliveryService }): Router {
  const router = new Router();
  router.get('/deliveries', async (ctx) => {
    const page = await deps.deliveries.list(parseQuery(deliveryListQuerySchema, ctx.query));
    ctx.set('X-Total-Count', String(page.total));
    ctx.body = page.rows;
  });
  router.post('/deliveries/:id/retry', async (ctx) => {
    const id = parseDeliveryId(ctx.params.id);
    await deps.deliveries.retry(id, ACTOR);
    ctx.body = { id, status: 'pending' };
  });
  return router;
}

const tag = 'deliveries';

export const deliveryRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/deliveries',
    tag,
    summary:
      'Outbound replies (message_history rows sent to GOSAC), newest first; filter by status and contact. The X-Total-Count header gives the number of matches.',
    query: deliveryListQuerySchema,
    response: { status: 200, schema: z.array(deliveryRowSchema) },
    errors: [400],
  },
  {
    method: 'post',
    path: '/api/deliveries/:id/retry',
    tag,
    summary:
      "Send a failed reply again: it becomes pending, due now, with its attempts reset, in its contact's line (id order). 404 for an unknown id, 409 when it is not failed.",
    response: { status: 200, schema: deliveryRetriedSchema },
    errors: [400, 404, 409],
  },
];
