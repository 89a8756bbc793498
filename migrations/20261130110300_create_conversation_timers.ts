import type { Knex } from 'knex';

// Durable machine timers (ADR 0007): a delayed event returned by a step (`xstate.raise` with a
// delay) or the hand-off's resume time, due at `due_at`. The timer stage claims due rows; a
// row fires at most once (status 'pending' -> 'fired' in the step that feeds its event) and is
// 'cancelled' by any input, by the machine leaving the state (`xstate.cancel`), and by pause,
// close and reset.
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE conversation_timers (
      id bigserial PRIMARY KEY,
      conversation_id bigint NOT NULL REFERENCES user_conversations(id) ON DELETE CASCADE,
      contact_id bigint NOT NULL,
      kind text NOT NULL CHECK (kind IN ('machine', 'handoff_resume')),
      send_id text NOT NULL,
      event jsonb NOT NULL,
      due_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'fired', 'cancelled')),
      outcome text,
      attempts integer NOT NULL DEFAULT 0,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`);
  await knex.raw("CREATE INDEX conversation_timers_due ON conversation_timers (due_at) WHERE status = 'pending'");
  await knex.raw(
    "CREATE INDEX conversation_timers_pending_by_conversation ON conversation_timers (conversation_id) WHERE status = 'pending'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE conversation_timers');
}
