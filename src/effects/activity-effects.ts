import type { EffectKind } from './effect-registry.js';

const inTheStep = {
  row: 'activity_logs',
  executor: 'none: the row is the whole effect',
  retry: 'written with the step, in its transaction',
  failures: 'none of its own',
} as const;

/** Effects that only leave a trace for operators and analytics. */
export const activityEffects: {
  keyword_matched: EffectKind<'keyword_matched'>;
  completed: EffectKind<'completed'>;
  variable_saved: EffectKind<'variable_saved'>;
} = {
  keyword_matched: {
    ...inTheStep,
    collect(effect, context, writes) {
      writes.activity.push({
        conversation: context.conversation,
        contactId: context.contact.id,
        action: 'keyword.matched',
        details: { subflow_id: effect.subflowId, keyword: effect.keyword },
      });
    },
  },
  completed: {
    ...inTheStep,
    collect(_effect, context, writes) {
      writes.activity.push({ conversation: context.conversation, contactId: context.contact.id, action: 'conversation.completed', details: null });
    },
  },
  variable_saved: {
    row: 'none: the variable is in the snapshot saved with the step',
    executor: 'none',
    retry: 'none',
    failures: 'none',
    collect() {},
  },
};
