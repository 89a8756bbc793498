import type { EffectKind } from './effect-registry.js';

/** A reply to the contact: an outbox row the send stage delivers in order, each when due. */
export const sendEffect: EffectKind<'send'> = {
  row: "message_history (direction 'outbound', status 'pending', due_at)",
  executor: 'src/deliveries/send-stage.ts: GOSAC calls in flight across contacts, one at a time per contact',
  retry: 'backoff 1 s … 5 min or Retry-After, 10 attempts; an unknown outcome is repeated once (ADR 0002)',
  failures: 'GET /api/deliveries?status=failed, POST /api/deliveries/:id/retry',
  collect(effect, context, writes) {
    writes.outbox.push({
      conversation: context.conversation,
      contactId: context.contact.id,
      ticketId: context.contact.ticketId,
      contactName: context.contact.name || null,
      contactNumber: context.contact.number || null,
      body: effect.text,
      flowMessageId: effect.messageId,
      reason: effect.reason,
      dueAt: context.replyClock.nextDue(effect.delaySeconds * 1000),
    });
  },
};
