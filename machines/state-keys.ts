// State keys double as state ids ("#msg_12"), so targets never depend on where a state sits.
export const startStateKey = 'start';
export const completedStateKey = 'completed';
export const subflowStateKey = (subflowId: number) => `sf_${subflowId}`;
export const messageStateKey = (messageId: number) => `msg_${messageId}`;
/** SPEC §8: the state where a message waits for the result of its action `index`. */
export const actionStateKey = (messageId: number, index: number) => `act_${messageId}_${index}`;

const positionPattern = /^sf_(-?\d+)$/;
// A message's action states count as being at that message.
const messagePattern = /^(?:msg_(-?\d+)|act_(-?\d+)_\d+)$/;

/** Reads `{ sf_<id>: 'msg_<id>' }` back into ids; anything else (start, completed) has no position. */
export function parsePosition(value: unknown): { subflowId: number; messageId: number } | null {
  if (value === null || typeof value !== 'object') return null;
  const entries = Object.entries(value);
  const [entry] = entries;
  if (entries.length !== 1 || !entry) return null;
  const [subflowKey, nested] = entry;
  // A message with silence timers rests in its `silence` child: { sf_1: { msg_2: 'silence' } }.
  const messageKey = nested !== null && typeof nested === 'object' && Object.keys(nested).length === 1 ? Object.keys(nested)[0] : nested;
  const subflowMatch = positionPattern.exec(subflowKey);
  const messageMatch = typeof messageKey === 'string' ? messagePattern.exec(messageKey) : null;
  const messageId = messageMatch?.[1] ?? messageMatch?.[2];
  if (!subflowMatch?.[1] || !messageId) return null;
  return { subflowId: Number(subflowMatch[1]), messageId: Number(messageId) };
}

const actionStatePattern = /^act_(-?\d+)_(\d+)$/;

/** The message and action a persisted conversation waits on, or null when it waits on none. */
export function pendingActionOf(value: unknown): { messageId: number; index: number } | null {
  if (value === null || typeof value !== 'object') return null;
  const [entry] = Object.values(value as Record<string, unknown>);
  const match = typeof entry === 'string' ? actionStatePattern.exec(entry) : null;
  return match?.[1] && match[2] ? { messageId: Number(match[1]), index: Number(match[2]) } : null;
}

// SPEC §10 constructs (machines/attendant.ts).
/** Final state of a conversation closed after `close_after_minutes` of silence. */
export const closedStateKey = 'closed';
/** Child of a waiting message holding its `after` timers; re-entered by every input. */
export const silenceStateKey = 'silence';
/** Transient first state of a business-hours-only subflow. */
export const hoursCheckStateKey = 'hours_check';
