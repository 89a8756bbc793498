import type { Database } from '../db/knex.js';
import type { SettingsService } from '../settings/settings-service.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
import { addDays, localDate, startOfLocalDay } from '../shared/time-zone.js';
import {
  conversationsByFlow,
  conversationsByStatus,
  countConversationsOfFlow,
  dailyMessages,
  filesByType,
  findFlowName,
  funnelSteps,
  type TimeRange,
} from './analytics-repository.js';
import type { AnalyticsRangeQuery, ConversationAnalytics, FileAnalytics, Funnel } from './analytics-schemas.js';

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;
// One row per day in daily_messages: a bound keeps an answer (and its query) small.
const MAX_DAYS = 366;

export interface AnalyticsService {
  conversations(query: AnalyticsRangeQuery): Promise<ConversationAnalytics>;
  files(query: AnalyticsRangeQuery): Promise<FileAnalytics>;
  funnel(flowId: number, query: AnalyticsRangeQuery): Promise<Funnel>;
}

const isDateOnly = (value: string) => value.length === 10;

/**
 * The half-open range [from, until) a query stands for, with days in `timeZone` (the TIMEZONE
 * setting): a date `from` starts at that day's first instant, a date `to` includes its whole day,
 * a date-time is that instant; the default is the last 30 days, today included.
 */
export function resolveRange(query: AnalyticsRangeQuery, now: number, timeZone: string): TimeRange {
  const dayStart = (date: string) => startOfLocalDay(date, timeZone);
  const until =
    query.to === undefined
      ? dayStart(addDays(localDate(now, timeZone), 1))
      : isDateOnly(query.to)
        ? dayStart(addDays(query.to, 1))
        : Date.parse(query.to) + 1;
  const from =
    query.from === undefined
      ? dayStart(addDays(localDate(until - 1, timeZone), -(DEFAULT_DAYS - 1)))
      : isDateOnly(query.from)
        ? dayStart(query.from)
        : Date.parse(query.from);
  if (from >= until) throw new ValidationError(`from: must not be after to${query.to === undefined ? ' (default: today)' : ''}`);
  const days = (Date.parse(localDate(until - 1, timeZone)) - Date.parse(localDate(from, timeZone))) / DAY_MS + 1;
  if (days > MAX_DAYS) throw new ValidationError(`from: the range must span at most ${MAX_DAYS} days`);
  return { from: new Date(from), until: new Date(until) };
}

const bounds = (range: TimeRange) => ({ from: range.from.toISOString(), to: new Date(range.until.getTime() - 1).toISOString() });

export function createAnalyticsService(deps: {
  readonly db: Database;
  readonly settings: Pick<SettingsService, 'current'>;
  readonly now?: () => number;
}): AnalyticsService {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  // The setting in force now: database over environment, checked when it was set.
  const timeZone = async () => (await deps.settings.current()).TIMEZONE;
  return {
    async conversations(query) {
      const zone = await timeZone();
      const range = resolveRange(query, now(), zone);
      const [byStatus, byFlow, daily] = await Promise.all([
        conversationsByStatus(db, range),
        conversationsByFlow(db, range),
        dailyMessages(db, range, zone),
      ]);
      return { ...bounds(range), timezone: zone, by_status: byStatus, by_flow: byFlow, daily_messages: daily };
    },

    async files(query) {
      const zone = await timeZone();
      const range = resolveRange(query, now(), zone);
      return { ...bounds(range), timezone: zone, files_by_type: await filesByType(db, range) };
    },

    async funnel(flowId, query) {
      const zone = await timeZone();
      const range = resolveRange(query, now(), zone);
      const flowName = await findFlowName(db, flowId);
      if (flowName === undefined) throw new NotFoundError(`flow ${flowId} not found`);
      const [conversations, steps] = await Promise.all([
        countConversationsOfFlow(db, flowId, range),
        funnelSteps(db, flowId, range),
      ]);
      return { flow_id: flowId, flow_name: flowName, ...bounds(range), timezone: zone, conversations, steps };
    },
  };
}
