import type { Database } from '../db/knex.js';
import { NotFoundError, ValidationError } from '../shared/errors.js';
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
const startOfUtcDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;

/**
 * The half-open range [from, until) a query stands for: a date `to` includes its whole day, a
 * date-time `to` includes that instant; the default is the last 30 UTC days, today included.
 */
export function resolveRange(query: AnalyticsRangeQuery, now: number): TimeRange {
  const until =
    query.to === undefined
      ? startOfUtcDay(now) + DAY_MS
      : isDateOnly(query.to)
        ? Date.parse(`${query.to}T00:00:00Z`) + DAY_MS
        : Date.parse(query.to) + 1;
  const from =
    query.from === undefined
      ? startOfUtcDay(until - 1) - (DEFAULT_DAYS - 1) * DAY_MS
      : Date.parse(isDateOnly(query.from) ? `${query.from}T00:00:00Z` : query.from);
  if (from >= until) throw new ValidationError(`from: must not be after to${query.to === undefined ? ' (default: today)' : ''}`);
  if (until - startOfUtcDay(from) > MAX_DAYS * DAY_MS) throw new ValidationError(`from: the range must span at most ${MAX_DAYS} days`);
  return { from: new Date(from), until: new Date(until) };
}

const bounds = (range: TimeRange) => ({ from: range.from.toISOString(), to: new Date(range.until.getTime() - 1).toISOString() });

export function createAnalyticsService(deps: { readonly db: Database; readonly now?: () => number }): AnalyticsService {
  const { db } = deps;
  const now = deps.now ?? Date.now;
  return {
    async conversations(query) {
      const range = resolveRange(query, now());
      const [byStatus, byFlow, daily] = await Promise.all([
        conversationsByStatus(db, range),
        conversationsByFlow(db, range),
        dailyMessages(db, range),
      ]);
      return { ...bounds(range), by_status: byStatus, by_flow: byFlow, daily_messages: daily };
    },

    async files(query) {
      const range = resolveRange(query, now());
      return { ...bounds(range), files_by_type: await filesByType(db, range) };
    },

    async funnel(flowId, query) {
      const range = resolveRange(query, now());
      const flowName = await findFlowName(db, flowId);
      if (flowName === undefined) throw new NotFoundError(`flow ${flowId} not found`);
      const [conversations, steps] = await Promise.all([
        countConversationsOfFlow(db, flowId, range),
        funnelSteps(db, flowId, range),
      ]);
      return { flow_id: flowId, flow_name: flowName, ...bounds(range), conversations, steps };
    },
  };
}
