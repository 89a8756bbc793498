import { z } from 'zod';

// Day boundaries in a named time zone, for analytics (setting TIMEZONE). Names are IANA zone
// names as both Intl (validation, day arithmetic here) and PostgreSQL (`AT TIME ZONE`) know them.

export const DEFAULT_TIME_ZONE = 'America/Sao_Paulo';

// A zone name, not an offset: "+03:00" or "UTC-3" mean opposite things to Intl and PostgreSQL.
const zoneName = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

/** True for a time zone name Intl knows ("America/Sao_Paulo", "UTC", "Etc/GMT+3"). */
export function isTimeZone(name: string): boolean {
  if (!zoneName.test(name) || /^(UTC|GMT)[+-]/i.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string({ error: 'must be a time zone name such as America/Sao_Paulo or UTC' })
  .trim()
  .refine(isTimeZone, {
    error: (issue) => `unknown time zone "${String(issue.input)}" (use an IANA name such as America/Sao_Paulo or UTC)`,
  });

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** The zone's wall-clock time at `ms`, read as if it were UTC. */
function wallClock(ms: number, timeZone: string): number {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(new Date(ms)).map((part) => [part.type, part.value]));
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
}

/** The calendar date (YYYY-MM-DD) in `timeZone` at the instant `ms`. */
export function localDate(ms: number, timeZone: string): string {
  return new Date(wallClock(ms, timeZone)).toISOString().slice(0, 10);
}

/** `date` (YYYY-MM-DD) moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/**
 * The first instant of `date` (YYYY-MM-DD) in `timeZone`. Where the day starts in a DST gap or
 * overlap (no local midnight, or one shown as the day before), the first instant of that date.
 */
export function startOfLocalDay(date: string, timeZone: string): number {
  const midnight = Date.parse(`${date}T00:00:00Z`);
  // Local midnight under the offset in force at UTC midnight, then under the offset in force at
  // that first guess: the two differ only when the offset changes that night.
  const first = midnight - (wallClock(midnight, timeZone) - midnight);
  const second = midnight - (wallClock(first, timeZone) - first);
  const candidates = [first, second].filter((instant) => localDate(instant, timeZone) === date);
  return candidates.length > 0 ? Math.min(...candidates) : first;
}
