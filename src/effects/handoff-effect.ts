import { cancelTimers } from './timer-effect.js';
import type { EffectKind } from './effect-registry.js';

const DEFAULT_RESUME_MS = 240 * 60_000;
export const HANDOFF_RESUME_SEND_ID = 'handoff.resume';

/** SPEC §10 hand-off and closing for silence. */
export const handoffEffects: { handoff: EffectKind<'handoff'>; closed: EffectKind<'closed'> } = {
  handoff: {
    row: 'user_conversations.bot_paused_at (as POST /api/conversations/:id/pause) and a handoff_resume timer',
    executor: 'src/timers/timer-stage.ts ends the hold after HANDOFF_RESUME_MINUTES of agent silence',
    retry: 'written with the step, in its transaction',
    failures: 'GET /api/conversations?status=paused',
    collect(effect, context, writes) {
      // A paused conversation keeps no machine timers; the agent's silence is timed instead.
      cancelTimers(writes, context, null);
      writes.handoffs.push(context.conversation);
      writes.activity.push({
        conversation: context.conversation,
        contactId: context.contact.id,
        action: 'conversation.handoff',
        details: { subflow_id: effect.subflowId, message_id: effect.messageId },
      });
      writes.timers.push({
        conversation: context.conversation,
        contactId: context.contact.id,
        kind: 'handoff_resume',
        sendId: HANDOFF_RESUME_SEND_ID,
        event: { type: HANDOFF_RESUME_SEND_ID },
        dueAt: new Date((context.now ?? Date.now()) + (context.handoffResumeMs ?? DEFAULT_RESUME_MS)),
      });
    },
  },
  closed: {
    row: 'activity_logs',
    executor: 'none: the row is the whole effect (the step ends the conversation)',
    retry: 'written with the step, in its transaction',
    failures: 'none of its own',
    collect(_effect, context, writes) {
      writes.activity.push({ conversation: context.conversation, contactId: context.contact.id, action: 'conversation.closed_for_silence', details: null });
    },
  },
};
