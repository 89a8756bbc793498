import { timingSafeEqual, createHash } from 'node:crypto';
import Router from '@koa/router';
import { z } from 'zod';
import type { CoreDeps } from '../../app-deps.js';
import type { IntakeService } from '../../conversations/intake-service.js';
import { webhookPayloadSchema } from '../../conversations/webhook-payload.js';
import type { RouteDoc } from '../openapi/route-doc.js';

export interface WebhookRouterDeps extends CoreDeps {
  readonly intake: IntakeService;
}

/** POST /webhook: GOSAC's new-message notifications. */
export function createWebhookRouter(deps: WebhookRouterDeps): Router {
  const router = new Router();
  const secret = deps.config.webhookSecret;

  router.post('/webhook', async (ctx) => {
    if (secret) {
      const query = ctx.query['token'];
      const given = (Array.isArray(query) ? query[0] : query) ?? ctx.get('X-Webhook-Token');
      if (!given || !sameSecret(given, secret)) {
        ctx.status = 401;
        ctx.body = { errors: ['invalid webhook token'] };
        return;
      }
    }
    const body = (ctx.request as { body?: unknown }).body;
    const result = await deps.intake.receive(body);
    ctx.status = result.status;
    ctx.body = result.body;
  });

  return router;
}

// Hashing first gives both sides one length, so the comparison time says nothing about the secret.
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

export const webhookRouteDocs: RouteDoc[] = [
  {
    method: 'post',
    path: '/webhook',
    tag: 'webhook',
    auth: false,
    summary:
      "GOSAC's new-message notification (SPEC §3). Every event is answered 200 with what was done (queued, duplicate, ignored - ..., bot disabled); only a messages:created event must carry data. With WEBHOOK_SECRET set, ?token= or X-Webhook-Token is required (401).",
    body: webhookPayloadSchema,
    response: { status: 200, schema: z.object({ status: z.string() }) },
    errors: [401],
  },
];
