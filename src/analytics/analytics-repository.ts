import type { Knex } from 'knex';

// Every figure is aggregated by PostgreSQL (GROUP BY / FILTER); JavaScript only renames columns.
// Days are days in the TIMEZONE setting (`AT TIME ZONE`). A range is half-open: [from, until).

type Runner = Knex | Knex.Transaction;

export interface TimeRange {
  readonly from: Date;
  readonly until: Date;
}

const rowsOf = async <T>(db: Runner, sql: string, bindings: readonly Knex.RawBinding[]): Promise<T[]> =>
  ((await db.raw(sql, bindings)) as { rows: T[] }).rows;

export function conversationsByStatus(db: Runner, range: TimeRange) {
  return rowsOf<{ status: 'active' | 'paused' | 'completed' | 'closed'; count: number }>(
    db,
    `SELECT s.status, count(c.id)::int AS count
       FROM (VALUES ('active', 1), ('paused', 2), ('completed', 3), ('closed', 4)) AS s(status, ord)
       LEFT JOIN (
         SELECT id, CASE WHEN is_completed THEN 'completed'
                         WHEN is_active AND bot_paused_at IS NOT NULL THEN 'paused'
                         WHEN is_active THEN 'active'
                         ELSE 'closed' END AS status
           FROM user_conversations
          WHERE started_at >= ? AND started_at < ?
       ) AS c ON c.status = s.status
      GROUP BY s.status, s.ord
      ORDER BY s.ord`,
    [range.from, range.until],
  );
}

export function conversationsByFlow(db: Runner, range: TimeRange) {
  return rowsOf<{ flow_id: number; flow_name: string; count: number }>(
    db,
    `SELECT c.flow_id, f.name AS flow_name, count(*)::int AS count
       FROM user_conversations c
       JOIN flows f ON f.id = c.flow_id
      WHERE c.started_at >= ? AND c.started_at < ?
      GROUP BY c.flow_id, f.name
      ORDER BY count DESC, c.flow_id`,
    [range.from, range.until],
  );
}

/**
 * One row per day of the range in `timeZone` (an IANA name, validated by the setting), zeros
 * included, so a chart needs no gap filling.
 */
export function dailyMessages(db: Runner, range: TimeRange, timeZone: string) {
  return rowsOf<{ date: string; inbound: number; outbound: number }>(
    db,
    `WITH days AS (
       SELECT generate_series(
                (?::timestamptz AT TIME ZONE ?)::date,
                ((?::timestamptz - interval '1 millisecond') AT TIME ZONE ?)::date,
                interval '1 day')::date AS day
     ), counts AS (
       SELECT (created_at AT TIME ZONE ?)::date AS day,
              count(*) FILTER (WHERE direction = 'inbound')::int AS inbound,
              count(*) FILTER (WHERE direction = 'outbound' AND status <> 'failed')::int AS outbound
         FROM message_history
        WHERE created_at >= ? AND created_at < ?
        GROUP BY 1
     )
     SELECT to_char(d.day, 'YYYY-MM-DD') AS date, coalesce(c.inbound, 0) AS inbound, coalesce(c.outbound, 0) AS outbound
       FROM days d LEFT JOIN counts c ON c.day = d.day
      ORDER BY d.day`,
    [range.from, timeZone, range.until, timeZone, timeZone, range.from, range.until],
  );
}

export function filesByType(db: Runner, range: TimeRange) {
  return rowsOf<{ file_type: string; count: number; avg_size_mb: number | null }>(
    db,
    `SELECT coalesce(nullif(file_type, ''), 'unknown') AS file_type,
            count(*)::int AS count,
            round(avg(file_size_bytes) / 1048576.0, 2)::float8 AS avg_size_mb
       FROM received_files
      WHERE created_at >= ? AND created_at < ?
      GROUP BY 1
      ORDER BY count DESC, file_type`,
    [range.from, range.until],
  );
}

export async function findFlowName(db: Runner, flowId: number): Promise<string | undefined> {
  const row = (await db('flows').where({ id: flowId }).first('name')) as { name: string } | undefined;
  return row?.name;
}

export async function countConversationsOfFlow(db: Runner, flowId: number, range: TimeRange): Promise<number> {
  const [row] = await rowsOf<{ count: number }>(
    db,
    'SELECT count(*)::int AS count FROM user_conversations WHERE flow_id = ? AND started_at >= ? AND started_at < ?',
    [flowId, range.from, range.until],
  );
  return row?.count ?? 0;
}

/**
 * The flow's active messages in the order conversations meet them, each with the conversations
 * (started in the range) that were sent it ("reached") and that rest on it without having
 * completed ("stopped"; "waiting" are the ones among them still active).
 */
export function funnelSteps(db: Runner, flowId: number, range: TimeRange) {
  return rowsOf<{
    subflow_id: number;
    subflow_name: string;
    message_id: number;
    message_text: string;
    reached: number;
    stopped: number;
    waiting: number;
  }>(
    db,
    `WITH convs AS (
       SELECT id, current_message_id, is_active, is_completed
         FROM user_conversations
        WHERE flow_id = ? AND started_at >= ? AND started_at < ?
     ), reached AS (
       SELECT h.flow_message_id, count(DISTINCT h.conversation_id)::int AS reached
         FROM message_history h
         JOIN convs c ON c.id = h.conversation_id
        WHERE h.direction = 'outbound' AND h.reason = 'flow' AND h.flow_message_id IS NOT NULL
        GROUP BY h.flow_message_id
     ), stopped AS (
       SELECT current_message_id, count(*)::int AS stopped, count(*) FILTER (WHERE is_active)::int AS waiting
         FROM convs
        WHERE NOT is_completed AND current_message_id IS NOT NULL
        GROUP BY current_message_id
     )
     SELECT s.id AS subflow_id, s.name AS subflow_name, m.id AS message_id, m.message_text,
            coalesce(r.reached, 0) AS reached, coalesce(st.stopped, 0) AS stopped, coalesce(st.waiting, 0) AS waiting
       FROM subflows s
       JOIN flow_messages m ON m.subflow_id = s.id AND m.is_active
       LEFT JOIN reached r ON r.flow_message_id = m.id
       LEFT JOIN stopped st ON st.current_message_id = m.id
      WHERE s.flow_id = ? AND s.is_active
      ORDER BY s.order_index, s.id, m.order_index, m.id`,
    [flowId, range.from, range.until, flowId],
  );
}
