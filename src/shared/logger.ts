import { pino, type Logger } from 'pino';

export type { Logger };

// Tokens and keys must never reach the logs, whatever object a caller hands to the logger.
const redactedPaths = [
  'authorization',
  'Authorization',
  'token',
  'password',
  'req.headers.authorization',
  'req.headers["x-webhook-token"]',
  'headers.authorization',
  'headers.Authorization',
  'headers.INTEGRATION',
  'config.adminApiToken',
  'config.webhookSecret',
  'config.gosac.authorizationKey',
  '*.authorization',
  '*.Authorization',
  '*.token',
  '*.password',
  '*.private_key',
];

/** `destination` (stdout by default) lets a test read exactly what the service would print. */
export function createLogger(level: string, name = 'flow-bot', destination?: pino.DestinationStream): Logger {
  const options = { name, level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes `token=` query parameters from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
