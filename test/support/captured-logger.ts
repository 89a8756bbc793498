// A pino logger whose lines the test can read and count (the service's own redaction aside).
import { pino, type Logger } from 'pino';

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: Array<{ level: number; msg: string; [key: string]: unknown }>;
  count(pattern: RegExp): number;
}

export function createCapturedLogger(level = 'info'): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const logger = pino(
    { level },
    {
      write(line: string) {
        lines.push(JSON.parse(line));
      },
    },
  );
  return { logger, lines, count: (pattern) => lines.filter((line) => pattern.test(line.msg)).length };
}
