// Failures that mean "the database is not there right now" rather than "this query is wrong":
// callers answer 503 (GOSAC retries the webhook) instead of 500, and nothing was stored.
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// 08: connection exception; 57P01-57P03: the server is shutting down or starting; 53300: too many
// connections.
const postgresCodes = new Set(['57P01', '57P02', '57P03', '53300']);
const messages = [
  /connection terminated/i,
  /timeout acquiring a connection/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /the database system is (starting up|shutting down)/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message, errors } = error as { code?: unknown; name?: unknown; message?: unknown; errors?: unknown };
  if (typeof code === 'string' && (networkCodes.has(code) || postgresCodes.has(code) || code.startsWith('08'))) return true;
  if (name === 'KnexTimeoutError') return true;
  if (typeof message === 'string' && messages.some((pattern) => pattern.test(message))) return true;
  // Node reports a refused dual-stack connect as an AggregateError of the attempts.
  return Array.isArray(errors) && errors.some((inner) => isDatabaseUnavailable(inner));
}
