import type { Knex } from 'knex';
import { z } from 'zod';
import type { Database } from '../db/knex.js';
import { contactIdQueryField, pagingQueryFields } from '../http/query-schemas.js';

// The inbox: inbound message_history rows still `received`, i.e. no step has consumed them yet
// (ADR 0004). A failing step leaves them there with attempts + 1, last_error and a backoff due_at.

type Runner = Knex | Knex.Transaction;

export const inboxStatuses = ['stuck', 'waiting'] as const;
export type InboxStatus = (typeof inboxStatuses)[number];

/** How long past its due time an input may wait before it counts as stuck. */
export const STUCK_AFTER = "interval '1 minute'";

export const inboxListQuerySchema = z.object({
  status: z
    .enum(inboxStatuses, { error: `must be one of ${inboxStatuses.join(', ')}` })
    .default('stuck')
    .describe(
      'stuck (default: a step failed on it, see last_error, or it is over a minute past its due time), waiting (every input no step has consumed yet)',
    ),
  contact_id: contactIdQueryField,
  ...pagingQueryFields,
});
export type InboxListQuery = z.output<typeof inboxListQuerySchema>;

export const inboxRowSchema = z.object({
  id: z.int(),
  contact_id: z.int(),
  ticket_id: z.int().nullable(),
  body: z.string(),
  media_type: z.string(),
  attempts: z.int().describe('steps that failed on it'),
  last_error: z.string().nullable().describe('why the last step failed'),
  due_at: z.string().nullable().describe('when the next step may take it'),
  created_at: z.string(),
});

const columns = ['id', 'contact_id', 'ticket_id', 'body', 'media_type', 'attempts', 'last_error', 'due_at', 'created_at'];

function inbox(db: Runner, status: InboxStatus): Knex.QueryBuilder {
  const query = db('message_history').where({ direction: 'inbound', status: 'received' });
  // Rows stored before inbound due times existed have none: their arrival counts instead.
  if (status === 'stuck') {
    query.andWhere((q) =>
      q.whereNotNull('last_error').orWhereRaw(`coalesce(due_at, created_at) < now() - ${STUCK_AFTER}`),
    );
  }
  return query;
}

/** How many inputs are stuck now (GET /ready reports it). */
export async function countStuckInputs(db: Runner): Promise<number> {
  const [row] = await inbox(db, 'stuck').count<{ count: string | number }[]>({ count: '*' });
  return Number(row?.count ?? 0);
}

export interface InboxPage {
  readonly rows: Record<string, unknown>[];
  /** Every row matching the filters (X-Total-Count). */
  readonly total: number;
}

export interface InboxQueries {
  /** Inputs waiting for a step, oldest first (the order the engine takes them). */
  list(query: InboxListQuery): Promise<InboxPage>;
}

export function createInboxQueries(deps: { readonly db: Database }): InboxQueries {
  const { db } = deps;
  return {
    async list(query) {
      const filtered = () => {
        const builder = inbox(db, query.status);
        if (query.contact_id !== undefined) builder.andWhere({ contact_id: query.contact_id });
        return builder;
      };
      const [rows, counted] = await Promise.all([
        filtered().select(columns).orderBy('id', 'asc').limit(query.limit).offset(query.offset),
        filtered().count<{ count: string | number }[]>({ count: '*' }),
      ]);
      return { rows, total: Number(counted[0]?.count ?? 0) };
    },
  };
}
