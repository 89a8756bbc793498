import type { Knex } from 'knex';
import type { CoreDeps } from '../app-deps.js';
import { HANDOFF_RESUME_SEND_ID } from '../effects/handoff-effect.js';
import { endHolds } from '../timers/timer-repository.js';
import { lockContactForStep } from './contact-lock.js';
import { cancelPendingReplies } from './conversation-admin-repository.js';
import type { WebhookMessage } from './webhook-payload.js';

// SPEC §10 hand-off, the webhook's half. GOSAC posts every message of a ticket, the bot's own
// replies included (`fromMe`). A `fromMe` message whose text is none of the bot's recent replies
// on that ticket was typed by a human agent: the conversation is paused, and resumes (ends, so
// the contact's next message starts over) after HANDOFF_RESUME_MINUTES of agent silence, a
// durable timer (ADR 0007), or when a webhook shows the ticket closed.

/** How many of the bot's latest replies on a ticket an echo is compared with. */
export const ECHO_WINDOW = 20;

/** GOSAC may re-wrap lines, trim, or turn spaces into non-breaking ones: compare without them. */
export function normalizeForEcho(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\u200B-\u200D\uFEFF]/g, '')
    .replace(/\s+/gu, ' ')
    .trim();
}

export type FromMeOutcome = 'ignored - from bot' | 'ignored - agent replied';

export interface HandoffService {
  /** Rule 2 with SPEC §10: an echo of the bot, or an agent's reply that pauses the conversation. */
  fromMe(message: WebhookMessage): Promise<FromMeOutcome>;
  /** The ticket is closed: a paused conversation of the contact ends (the next message starts over). */
  ticketClosed(message: WebhookMessage): Promise<number[]>;
}

function ticketOf(message: WebhookMessage): number | null {
  return message.ticketId ?? message.ticket?.id ?? null;
}

export function isTicketClosed(message: WebhookMessage): boolean {
  return message.ticket?.status?.trim().toLowerCase() === 'closed';
}

export function createHandoffService(deps: Pick<CoreDeps, 'db' | 'settings' | 'logger'>): HandoffService {
  const log = deps.logger.child({ component: 'handoff' });

  async function isEcho(message: WebhookMessage): Promise<boolean> {
    const ticketId = ticketOf(message);
    const rows = (await deps.db.raw(
      `SELECT body FROM message_history
        WHERE contact_id = :contactId AND direction = 'outbound' AND status <> 'cancelled'
          AND (:ticketId::bigint IS NULL OR ticket_id IS NULL OR ticket_id = :ticketId::bigint)
        ORDER BY id DESC LIMIT :limit`,
      { contactId: message.contactId, ticketId, limit: ECHO_WINDOW },
    )) as { rows: Array<{ body: string | null }> };
    const text = normalizeForEcho(message.body);
    return rows.rows.some((row) => normalizeForEcho(row.body ?? '') === text);
  }

  /** Pauses the contact's active conversation (if the bot had it) and (re)starts the agent-silence timer. */
  async function agentReplied(trx: Knex.Transaction, message: WebhookMessage, resumeMs: number): Promise<void> {
    await lockContactForStep(trx, message.contactId);
    const conversation = (await trx('user_conversations')
      .where({ contact_id: message.contactId, is_active: true })
      .first('id', 'bot_paused_at')) as { id: number | string; bot_paused_at: Date | null } | undefined;
    if (!conversation) return;
    const id = Number(conversation.id);
    const resume = (await trx('conversation_timers')
      .where({ conversation_id: id, kind: 'handoff_resume', status: 'pending' })
      .first('id')) as { id: number } | undefined;
    // Paused by an operator (no resume timer): only the operator ends that hold (ADR 0003).
    if (conversation.bot_paused_at && !resume) return;
    if (!conversation.bot_paused_at) {
      await trx('user_conversations').where({ id }).update({ bot_paused_at: trx.fn.now(), updated_at: trx.fn.now() });
      await cancelPendingReplies(trx, message.contactId, 'conversation.agent_replied');
      await trx('activity_logs').insert({ conversation_id: id, contact_id: message.contactId, actor: 'agent', action: 'conversation.agent_replied', details: null });
    }
    await trx.raw(
      `WITH dropped AS (
         UPDATE conversation_timers SET status = 'cancelled', outcome = 'the agent replied', finished_at = now()
          WHERE conversation_id = :id AND status = 'pending'
       )
       INSERT INTO conversation_timers (conversation_id, contact_id, kind, send_id, event, due_at)
       VALUES (:id, :contactId, 'handoff_resume', :sendId, :event::jsonb, now() + :resumeMs * interval '1 millisecond')`,
      { id, contactId: message.contactId, sendId: HANDOFF_RESUME_SEND_ID, event: JSON.stringify({ type: HANDOFF_RESUME_SEND_ID }), resumeMs },
    );
  }

  async function ticketClosed(message: WebhookMessage): Promise<number[]> {
    const ticketId = ticketOf(message);
    return deps.db.transaction(async (trx) => {
      await lockContactForStep(trx, message.contactId);
      const paused = (await trx('user_conversations')
        .where({ contact_id: message.contactId, is_active: true })
        .whereNotNull('bot_paused_at')
        .modify((query) => {
          if (ticketId !== null) query.andWhere((inner) => inner.whereNull('ticket_id').orWhere('ticket_id', ticketId));
        })
        .pluck('id')) as Array<number | string>;
      const ended = await endHolds(trx, paused.map(Number), 'ticket_closed');
      if (ended.length > 0) log.info({ contactId: message.contactId, ticketId, conversations: ended }, 'ticket closed: hand-off ended');
      return ended;
    });
  }

  return {
    async fromMe(message) {
      if (isTicketClosed(message)) {
        await ticketClosed(message);
        return (await isEcho(message)) ? 'ignored - from bot' : 'ignored - agent replied';
      }
      if (await isEcho(message)) return 'ignored - from bot';
      const settings = await deps.settings.current();
      await deps.db.transaction((trx) => agentReplied(trx, message, settings.HANDOFF_RESUME_MINUTES * 60_000));
      log.info({ contactId: message.contactId, ticketId: ticketOf(message) }, 'an agent replied: the bot steps back');
      return 'ignored - agent replied';
    },
    ticketClosed,
  };
}
