import type { ActionResultEvent } from '../../machines/index.js';
import type { ActionResultRow } from '../conversations/step-repository.js';

/** A finished action_runs row as the machine's ACTION_RESULT event (SPEC §8). */
export function actionResultEventOf(row: ActionResultRow): ActionResultEvent {
  const ok = row.status === 'succeeded';
  return {
    type: 'ACTION_RESULT',
    messageId: Number(row.flow_message_id ?? 0),
    index: row.action_index,
    ok,
    value: ok ? (row.result ?? '') : '',
    error: ok ? '' : (row.last_error ?? 'action failed'),
  };
}
