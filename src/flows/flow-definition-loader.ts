import type { Knex } from 'knex';
import { flowDefinitionSchema, type FlowDefinition } from '../../machines/index.js';

type Runner = Knex | Knex.Transaction;

interface SubflowRow {
  id: number;
  name: string;
  order_index: number;
  parent_subflow_id: number | null;
  trigger_keywords: string[] | null;
  business_hours_only: boolean;
  out_of_hours_subflow_id: number | null;
  handoff: boolean;
}

interface MessageRow {
  id: number;
  subflow_id: number;
  message_text: string;
  message_type: string;
  order_index: number;
  wait_for_response: boolean;
  wait_for_file: boolean;
  expected_file_types: string[] | null;
  delay_seconds: number;
  save_response_as: string | null;
  actions: unknown[] | null;
  reminder_after_minutes: number | null;
  reminder_text: string | null;
  max_reprompts: number | null;
  fallback_subflow_id: number | null;
}

/** The active default flow's id, or undefined when none is configured. */
export async function findDefaultFlowId(db: Runner): Promise<number | undefined> {
  const row = (await db('flows')
    .where({ is_default: true, is_active: true })
    .orderBy('id')
    .first('id')) as { id: number } | undefined;
  return row?.id;
}

/**
 * Reads what conversations run: the flow's ACTIVE subflows and their ACTIVE messages, in order.
 * Returns undefined for an unknown or inactive flow.
 */
export async function loadFlowDefinition(db: Runner, flowId: number): Promise<FlowDefinition | undefined> {
  const flow = (await db('flows').where({ id: flowId, is_active: true }).first('id', 'name', 'close_after_minutes', 'close_text')) as
    | { id: number; name: string; close_after_minutes: number | null; close_text: string | null }
    | undefined;
  if (!flow) return undefined;
  const subflows = (await db('subflows')
    .where({ flow_id: flowId, is_active: true })
    .orderBy([{ column: 'order_index' }, { column: 'id' }])
    .select('id', 'name', 'order_index', 'parent_subflow_id', 'trigger_keywords', 'business_hours_only', 'out_of_hours_subflow_id', 'handoff')) as SubflowRow[];
  const messages = (await db('flow_messages')
    .whereIn(
      'subflow_id',
      subflows.map((subflow) => subflow.id),
    )
    .andWhere({ is_active: true })
    .orderBy([{ column: 'order_index' }, { column: 'id' }])
    .select(
      'id',
      'subflow_id',
      'message_text',
      'message_type',
      'order_index',
      'wait_for_response',
      'wait_for_file',
      'expected_file_types',
      'delay_seconds',
      'save_response_as',
      'actions',
      'reminder_after_minutes',
      'reminder_text',
      'max_reprompts',
      'fallback_subflow_id',
    )) as MessageRow[];

  return flowDefinitionSchema.parse({
    flowId: flow.id,
    name: flow.name,
    ...setFields({ closeAfterMinutes: flow.close_after_minutes, closeText: flow.close_text }),
    subflows: subflows.map((subflow) => ({
      id: subflow.id,
      name: subflow.name,
      orderIndex: subflow.order_index,
      parentSubflowId: subflow.parent_subflow_id,
      triggerKeywords: subflow.trigger_keywords ?? [],
      ...setFields({
        businessHoursOnly: subflow.business_hours_only,
        outOfHoursSubflowId: subflow.out_of_hours_subflow_id,
        handoff: subflow.handoff,
      }),
      messages: messages
        .filter((message) => message.subflow_id === subflow.id)
        .map((message) => ({
          id: message.id,
          text: message.message_text,
          type: message.message_type,
          orderIndex: message.order_index,
          waitForResponse: message.wait_for_response,
          waitForFile: message.wait_for_file,
          expectedFileTypes: message.expected_file_types ?? [],
          delaySeconds: message.delay_seconds,
          saveResponseAs: message.save_response_as,
          // Absent when empty, so flows without actions keep their content hash (flow versions).
          ...(message.actions && message.actions.length > 0 ? { actions: message.actions } : {}),
          ...setFields({
            reminderAfterMinutes: message.reminder_after_minutes,
            reminderText: message.reminder_text,
            maxReprompts: message.max_reprompts,
            fallbackSubflowId: message.fallback_subflow_id,
          }),
        })),
    })),
  });
}

/**
 * The SPEC §10 fields that are set (not null, not false): a flow that uses none of them keeps the
 * definition, and so the content hash and version, it had before they existed.
 */
function setFields<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== null && value !== undefined && value !== false)) as Partial<T>;
}
