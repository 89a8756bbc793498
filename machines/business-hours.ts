import { z } from 'zod';

// SPEC §10 business hours: the BUSINESS_HOURS setting's shape, its validation, and the pure
// question the `outOfBusinessHours` guard asks: is the instant of the input inside the hours?

export const weekDays = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type WeekDay = (typeof weekDays)[number];

const timePattern = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/** True for a time zone name Intl knows ("America/Sao_Paulo", "UTC"); offsets are refused. */
export function isKnownTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(name) || /^(UTC|GMT)[+-]/i.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const time = z.string({ error: 'must be a time "HH:MM"' }).regex(timePattern, 'must be a time "HH:MM" between 00:00 and 24:00');
const window = z
  .tuple([time, time], { error: 'must be a window ["HH:MM", "HH:MM"]' })
  .refine(([from, to]) => minutesOf(from) < minutesOf(to), 'must end after it starts');
const dayWindows = z
  .array(window, { error: 'must be a list of windows [["HH:MM", "HH:MM"], ...]' })
  .max(24, 'must hold at most 24 windows')
  .superRefine((windows, ctx) => {
    const sorted = windows.map(([from, to]) => [minutesOf(from), minutesOf(to)] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i += 1) {
      if ((sorted[i]?.[0] ?? 0) < (sorted[i - 1]?.[1] ?? 0)) {
        ctx.addIssue({ code: 'custom', message: 'windows must not overlap' });
        return;
      }
    }
  });

const date = z
  .string({ error: 'must be a date "YYYY-MM-DD"' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date "YYYY-MM-DD"')
  .refine((text) => {
    const parsed = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === text;
  }, 'must be a real calendar date');

export const businessHoursSchema = z.strictObject(
  {
    timezone: z
      .string({ error: 'must be a time zone name such as America/Sao_Paulo' })
      .refine(isKnownTimeZone, { error: (issue) => `unknown time zone "${String(issue.input)}"` }),
    week: z.strictObject(
      Object.fromEntries(weekDays.map((day) => [day, dayWindows.optional()])) as Record<WeekDay, z.ZodOptional<typeof dayWindows>>,
      { error: 'must be an object of days (mon … sun) with their windows' },
    ),
    holidays: z.array(date, { error: 'must be a list of dates' }).max(400, 'must hold at most 400 dates').default([]),
  },
  { error: 'must be {timezone, week, holidays}' },
);

export type BusinessHours = z.output<typeof businessHoursSchema>;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let found = formatters.get(timeZone);
  if (!found) {
    found = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, found);
  }
  return found;
}

/** The local date, week day and minute of the day at `at` (epoch ms) in `timeZone`. */
export function localTime(at: number, timeZone: string): { date: string; day: WeekDay; minute: number } {
  const parts = Object.fromEntries(formatterFor(timeZone).formatToParts(new Date(at)).map((part) => [part.type, part.value]));
  const day = String(parts['weekday']).slice(0, 3).toLowerCase() as WeekDay;
  return {
    date: `${parts['year']}-${parts['month']}-${parts['day']}`,
    day,
    minute: Number(parts['hour']) * 60 + Number(parts['minute']),
  };
}

/** Open at `at`? No schedule (null) means always open; a holiday is closed all day. */
export function isWithinBusinessHours(hours: BusinessHours | null | undefined, at: number): boolean {
  if (!hours) return true;
  const local = localTime(at, hours.timezone);
  if (hours.holidays.includes(local.date)) return false;
  const windows = hours.week[local.day] ?? [];
  return windows.some(([from, to]) => local.minute >= minutesOf(from) && local.minute < minutesOf(to));
}
