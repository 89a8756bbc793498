// State keys double as state ids ("#msg_12"), so targets never depend on where a state sits.
export const startStateKey = 'start';
export const completedStateKey = 'completed';
export const subflowStateKey = (subflowId: number) => `sf_${subflowId}`;
export const messageStateKey = (messageId: number) => `msg_${messageId}`;

const positionPattern = /^sf_(-?\d+)$/;
const messagePattern = /^msg_(-?\d+)$/;

/** Reads `{ sf_<id>: 'msg_<id>' }` back into ids; anything else (start, completed) has no position. */
export function parsePosition(value: unknown): { subflowId: number; messageId: number } | null {
  if (value === null || typeof value !== 'object') return null;
  const entries = Object.entries(value);
  const [entry] = entries;
  if (entries.length !== 1 || !entry) return null;
  const [subflowKey, messageKey] = entry;
  const subflowMatch = positionPattern.exec(subflowKey);
  const messageMatch = typeof messageKey === 'string' ? messagePattern.exec(messageKey) : null;
  if (!subflowMatch?.[1] || !messageMatch?.[1]) return null;
  return { subflowId: Number(subflowMatch[1]), messageId: Number(messageMatch[1]) };
}
