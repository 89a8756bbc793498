import { pino, type Logger, type TransportSingleOptions } from 'pino';

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
  'config.pontta.password',
  'config.google.privateKey',
  'headers.Businessunit',
  '*.id_token',
  '*.privateKey',
  '*.authorization',
  '*.Authorization',
  '*.token',
  '*.password',
  '*.private_key',
];

/**
 * How logs are written to `output`: readable lines through pino-pretty (in a worker thread, as a
 * pino transport) when it is a terminal, one JSON object per line otherwise (files, pipes, log
 * collectors).
 */
export function logTransportFor(output: { readonly isTTY?: boolean }): TransportSingleOptions | undefined {
  if (output.isTTY !== true) return undefined;
  return {
    target: 'pino-pretty',
    options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: false },
  };
}

/**
 * A pino logger that never logs secrets. JSON on stdout unless told otherwise: `output` makes the
 * format follow logTransportFor(output) (pretty in a terminal); `destination` lets a test read
 * exactly what the service would print.
 */
export function createLogger(
  level: string,
  name = 'flow-bot',
  options: { readonly output?: { readonly isTTY?: boolean }; readonly destination?: pino.DestinationStream } = {},
): Logger {
  const base = { name, level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  if (options.destination) return pino(base, options.destination);
  const transport = options.output ? logTransportFor(options.output) : undefined;
  return pino({ ...base, ...(transport ? { transport } : {}) });
}

/** Removes `token=` query parameters from a URL before it is logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
