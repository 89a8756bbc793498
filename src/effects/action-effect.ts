import type { EffectKind } from './effect-registry.js';
import { actionRunOf } from './step-writes.js';

/**
 * SPEC §8: one action of a flow message, its templates filled in. The conversation waits in the
 * action's state until the executor's outcome is fed back by the step engine (ADR 0008).
 */
export const actionRequestedEffect: EffectKind<'action_requested'> = {
  row: "action_runs (status 'pending', fed_at null: the contact's inputs wait in the inbox)",
  executor: 'src/actions/action-executor.ts: claims due runs with a lease, one at a time per contact, in order',
  retry: 'network errors, 5xx and 429: backoff (ACTION_RETRY_BASE_MS doubling, ACTION_MAX_ATTEMPTS); 401: one re-authentication',
  failures: 'GET /api/actions?status=failed, POST /api/actions/:id/retry',
  collect(effect, context, writes) {
    writes.actionRuns.push(
      actionRunOf(context, { flowMessageId: effect.messageId, index: effect.index, type: effect.action.type, action: { ...effect.action }, fed: false }),
    );
  },
};
