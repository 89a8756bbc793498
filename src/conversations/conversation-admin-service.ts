import type { Knex } from 'knex';
import type { Database } from '../db/knex.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { dropConversationTimers } from '../timers/timer-repository.js';
import { lockContactForStep } from './contact-lock.js';
import {
  cancelPendingReplies,
  findConversation,
  logConversationChange,
  updateConversation,
  type ConversationControlRow,
} from './conversation-admin-repository.js';

export interface ConversationAdminService {
  /** Ends the conversation (closed_reason 'closed_by_admin'); the contact's next message starts a new one. */
  close(id: number): Promise<void>;
  /**
   * Ends the conversation (closed_reason 'reset') so the contact starts over on the default flow:
   * nothing is sent now, the contact's next message gets the greeting.
   */
  reset(id: number): Promise<void>;
  /** A human agent takes over: inbound messages are stored, the bot answers nothing. */
  pause(id: number): Promise<void>;
  /** The bot takes over again where the conversation stood. */
  resume(id: number): Promise<void>;
}

interface Change {
  readonly action: string;
  /** Throws a ConflictError when the change does not apply to the conversation as it is. */
  readonly check?: (row: ConversationControlRow) => void;
  readonly values: (db: Knex.Transaction) => Record<string, unknown>;
  /** The bot stops talking to the contact: replies it had not sent yet are cancelled (ADR 0004). */
  readonly silences?: boolean;
}

const requireActive = (row: ConversationControlRow) => {
  if (!row.is_active) {
    throw new ConflictError(`conversation ${row.id} is not active (${row.is_completed ? 'completed' : `closed: ${row.closed_reason ?? 'unknown'}`})`);
  }
};

/**
 * Admin actions on one conversation. Each runs under the contact's processing lock, so it lands
 * between two runs of the bot for that contact, never in the middle of one, and writes its
 * activity_logs row in the same transaction.
 */
export function createConversationAdminService(deps: { readonly db: Database }): ConversationAdminService {
  async function apply(id: number, change: Change): Promise<void> {
    await deps.db.transaction(async (trx) => {
      const found = await findConversation(trx, id);
      if (!found) throw new NotFoundError(`conversation ${id} not found`);
      await lockContactForStep(trx, found.contact_id);
      const before = await findConversation(trx, id, true);
      if (!before) throw new NotFoundError(`conversation ${id} not found`);
      requireActive(before);
      change.check?.(before);
      const after = await updateConversation(trx, id, change.values(trx));
      const cancelled = change.silences ? await cancelPendingReplies(trx, before.contact_id, change.action) : 0;
      // SPEC §10: pause, close and reset drop the conversation's pending timers (ADR 0007).
      if (change.silences) await dropConversationTimers(trx, id, change.action);
      await logConversationChange(trx, { action: change.action, before, after, cancelledReplies: cancelled });
    });
  }

  const ending = (reason: string) => () => ({ is_active: false, closed_reason: reason, bot_paused_at: null });

  return {
    close: (id) => apply(id, { action: 'conversation.closed_by_admin', values: ending('closed_by_admin'), silences: true }),
    reset: (id) => apply(id, { action: 'conversation.reset', values: ending('reset'), silences: true }),
    pause: (id) =>
      apply(id, {
        action: 'conversation.paused',
        silences: true,
        check: (row) => {
          if (row.bot_paused_at) throw new ConflictError(`conversation ${row.id} is already paused`);
        },
        values: (trx) => ({ bot_paused_at: trx.fn.now() }),
      }),
    resume: (id) =>
      apply(id, {
        action: 'conversation.resumed',
        check: (row) => {
          if (!row.bot_paused_at) throw new ConflictError(`conversation ${row.id} is not paused`);
        },
        // The pause was the agent's time, not the contact's silence: the idle timeout starts again.
        values: (trx) => ({ bot_paused_at: null, last_activity_at: trx.fn.now() }),
      }),
  };
}
