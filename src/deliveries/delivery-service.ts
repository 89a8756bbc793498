import type { Database } from '../db/knex.js';
import { ConflictError, NotFoundError } from '../shared/errors.js';
import { notifyWake, OUTBOX_CHANNEL } from '../shared/wake-channels.js';
import type { DeliveryListQuery } from './delivery-schemas.js';

const columns = [
  'id',
  'conversation_id',
  'contact_id',
  'ticket_id',
  'body',
  'status',
  'reason',
  'attempts',
  'last_error',
  'due_at',
  'created_at',
  'sent_at',
];

export interface DeliveryPage {
  readonly rows: Record<string, unknown>[];
  readonly total: number;
}

export interface DeliveryService {
  /** Outbound replies, newest first. */
  list(query: DeliveryListQuery): Promise<DeliveryPage>;
  /**
   * Puts a failed reply back in its contact's line, due now, with a fresh attempt budget (unknown
   * outcomes included: the operator decided to risk the copy), and wakes the send stages.
   */
  retry(id: number, actor: string): Promise<void>;
}

export function createDeliveryService(deps: { readonly db: Database }): DeliveryService {
  const { db } = deps;
  return {
    async list(query) {
      const filtered = () => {
        const builder = db('message_history').where({ direction: 'outbound' });
        if (query.status) builder.andWhere({ status: query.status });
        if (query.contact_id !== undefined) builder.andWhere({ contact_id: query.contact_id });
        return builder;
      };
      const [rows, counted] = await Promise.all([
        filtered().select(columns).orderBy('id', 'desc').limit(query.limit).offset(query.offset),
        filtered().count<{ count: string | number }[]>({ count: '*' }),
      ]);
      return { rows, total: Number(counted[0]?.count ?? 0) };
    },

    async retry(id, actor) {
      await db.transaction(async (trx) => {
        const row = (await trx('message_history')
          .where({ id, direction: 'outbound' })
          .forUpdate()
          .first('id', 'contact_id', 'conversation_id', 'status', 'attempts', 'last_error')) as
          | { id: number; contact_id: number; conversation_id: number | null; status: string; attempts: number; last_error: string | null }
          | undefined;
        if (!row) throw new NotFoundError(`delivery ${id} not found`);
        if (row.status !== 'failed') throw new ConflictError(`delivery ${id} is ${row.status}; only a failed one can be retried`);
        await trx('message_history')
          .where({ id })
          .update({
            status: 'pending',
            due_at: trx.fn.now(),
            attempts: 0,
            uncertain_attempts: 0,
            claimed_until: null,
            last_error: null,
          });
        await trx('activity_logs').insert({
          conversation_id: row.conversation_id,
          contact_id: row.contact_id,
          actor,
          action: 'delivery.retried',
          details: JSON.stringify({ message_history_id: id }),
          before: JSON.stringify({ status: row.status, attempts: row.attempts, last_error: row.last_error }),
          after: JSON.stringify({ status: 'pending', attempts: 0 }),
        });
        // Delivered only if the transaction commits: the send stages claim it at once.
        await notifyWake(trx, OUTBOX_CHANNEL);
      });
    },
  };
}
