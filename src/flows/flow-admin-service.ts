import type { Database } from '../db/knex.js';
import { ConflictError, NotFoundError, ValidationError } from '../shared/errors.js';
import { checkDefaultFlow, DefaultFlowWouldBreakError, problemsIntroduced } from './default-flow-health.js';
import {
  activeChildIdsInOrder,
  activeChildSubflowIds,
  activeFlowsOfTemplate,
  clearOtherDefaults,
  findActive,
  insertActivity,
  insertRow,
  isUniqueViolation,
  listActiveFlows,
  listActiveMessages,
  listActiveSubflows,
  listActiveTemplates,
  parentColumns,
  setOrder,
  subflowAncestry,
  updateRow,
  type ChildTable,
  type FlowRow,
  type FlowTable,
  type MessageRow,
  type Queryable,
  type RowsByTable,
  type SubflowRow,
  type TemplateRow,
} from './flow-admin-repository.js';
import type {
  FlowCreate,
  FlowUpdate,
  MessageCreate,
  MessageUpdate,
  SubflowCreate,
  SubflowUpdate,
  TemplateCreate,
  TemplateUpdate,
} from './flow-admin-schemas.js';

const ACTOR = 'admin';
/** Serialises the admin's flow writes, so two of them cannot each leave half of a breaking change. */
const FLOW_WRITE_LOCK = 'SELECT pg_advisory_xact_lock(727274, 3)';
const nouns: Record<FlowTable, string> = {
  flow_templates: 'template',
  flows: 'flow',
  subflows: 'subflow',
  flow_messages: 'message',
};
const actionPrefixes: Record<FlowTable, string> = {
  flow_templates: 'flow_template',
  flows: 'flow',
  subflows: 'subflow',
  flow_messages: 'flow_message',
};

export interface FlowAdminService {
  listTemplates(): Promise<TemplateRow[]>;
  getTemplate(id: number): Promise<TemplateRow>;
  createTemplate(input: TemplateCreate): Promise<TemplateRow>;
  updateTemplate(id: number, input: TemplateUpdate): Promise<TemplateRow>;
  deleteTemplate(id: number): Promise<void>;

  listFlows(templateId: number): Promise<FlowRow[]>;
  getFlow(id: number): Promise<FlowRow>;
  createFlow(input: FlowCreate): Promise<FlowRow>;
  updateFlow(id: number, input: FlowUpdate): Promise<FlowRow>;
  deleteFlow(id: number): Promise<void>;

  listSubflows(flowId: number): Promise<SubflowRow[]>;
  getSubflow(id: number): Promise<SubflowRow>;
  createSubflow(input: SubflowCreate): Promise<SubflowRow>;
  updateSubflow(id: number, input: SubflowUpdate): Promise<SubflowRow>;
  deleteSubflow(id: number): Promise<void>;

  listMessages(subflowId: number): Promise<MessageRow[]>;
  getMessage(id: number): Promise<MessageRow>;
  createMessage(input: MessageCreate): Promise<MessageRow>;
  updateMessage(id: number, input: MessageUpdate): Promise<MessageRow>;
  deleteMessage(id: number): Promise<void>;

  /** `ids` must be exactly the parent's active children; they get order_index 0, 1, 2... */
  reorderFlows(templateId: number, ids: readonly number[]): Promise<void>;
  reorderSubflows(flowId: number, ids: readonly number[]): Promise<void>;
  reorderMessages(subflowId: number, ids: readonly number[]): Promise<void>;
}

const parentOf: Record<ChildTable, FlowTable> = {
  flows: 'flow_templates',
  subflows: 'flows',
  flow_messages: 'subflows',
};
const pluralNouns: Record<ChildTable, string> = { flows: 'flows', subflows: 'subflows', flow_messages: 'messages' };

/** Names what `ids` gets wrong compared with the active children, or null when it is exactly them. */
function reorderProblem(current: readonly number[], ids: readonly number[], children: string): string | null {
  const wanted = new Set(current);
  const given = new Set(ids);
  const missing = current.filter((id) => !given.has(id));
  const unknown = ids.filter((id) => !wanted.has(id));
  if (missing.length === 0 && unknown.length === 0) return null;
  const parts = [
    ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
    ...(unknown.length > 0 ? [`not active ${children} of it ${unknown.join(', ')}`] : []),
  ];
  return `ids: must list exactly the active ${children} (${parts.join('; ')})`;
}

/** Drops the fields a request left out, so they keep their stored (or default) value. */
function given(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

/**
 * Flow CRUD for the admin API: checks parents, keeps one active default flow, refuses subflow
 * cycles, refuses writes that would leave the default flow unable to compile (contacts would go
 * unanswered), and records every write in activity_logs within the same transaction.
 */
export function createFlowAdminService(deps: { readonly db: Database }): FlowAdminService {
  const { db } = deps;

  /**
   * Every write runs here. After the work, still inside its transaction, the default flow is
   * loaded and compiled as the write leaves it; a write that breaks it (problemsIntroduced) is
   * rolled back and answered 400 with the compile problems. Drafts that are not the default may
   * be broken: GET /api/flows/:id/validate tells.
   */
  async function write<T>(work: (trx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(async (trx) => {
        await trx.raw(FLOW_WRITE_LOCK);
        const before = await checkDefaultFlow(trx);
        const result = await work(trx);
        const after = await checkDefaultFlow(trx);
        const problems = problemsIntroduced(before, after);
        if (problems && after.status === 'broken') throw new DefaultFlowWouldBreakError(after.flowId, problems);
        return result;
      });
    } catch (error) {
      // Admin writes are serialised by FLOW_WRITE_LOCK; another writer (a hand edit, a migration)
      // moving the default at the same moment still meets the index, which lets one win.
      if (isUniqueViolation(error, 'flows_one_active_default')) {
        throw new ConflictError('is_default: another flow was made the default at the same moment; try again');
      }
      throw error;
    }
  }

  async function requireRow<T extends FlowTable>(
    q: Queryable,
    table: T,
    id: number,
    lock?: 'update',
  ): Promise<RowsByTable[T]> {
    const row = await findActive(q, table, id, lock);
    if (!row) throw new NotFoundError(`${nouns[table]} ${id} not found`);
    return row;
  }

  /** A parent named in the body: missing or inactive is a bad field (400), not a bad URL. */
  async function requireParent<T extends FlowTable>(
    q: Queryable,
    table: T,
    id: number,
    field: string,
  ): Promise<RowsByTable[T]> {
    const row = await findActive(q, table, id, 'share');
    if (!row) throw new ValidationError(`${field}: no active ${nouns[table]} with id ${id}`);
    return row;
  }

  async function create<T extends FlowTable>(
    q: Queryable,
    table: T,
    values: Record<string, unknown>,
    details: Record<string, unknown> = {},
  ): Promise<RowsByTable[T]> {
    const row = await insertRow(q, table, given(values));
    await insertActivity(q, ACTOR, {
      action: `${actionPrefixes[table]}.created`,
      details: { id: row.id, ...details },
      after: row,
    });
    return row;
  }

  async function update<T extends FlowTable>(
    q: Queryable,
    table: T,
    before: RowsByTable[T],
    values: Record<string, unknown>,
    details: Record<string, unknown> = {},
  ): Promise<RowsByTable[T]> {
    const after = await updateRow(q, table, before.id, given(values));
    await insertActivity(q, ACTOR, {
      action: `${actionPrefixes[table]}.updated`,
      details: { id: before.id, ...details },
      before,
      after,
    });
    return after;
  }

  async function deactivate<T extends FlowTable>(
    q: Queryable,
    table: T,
    before: RowsByTable[T],
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    const after = await updateRow(q, table, before.id, { ...extra, is_active: false });
    await insertActivity(q, ACTOR, {
      action: `${actionPrefixes[table]}.deleted`,
      details: { id: before.id },
      before,
      after,
    });
  }

  async function takeDefault(q: Queryable, flowId: number | undefined): Promise<Record<string, unknown>> {
    const previous = await clearOtherDefaults(q, flowId);
    return previous.length > 0 ? { took_default_from: previous.map((flow) => flow.id) } : {};
  }

  /** SPEC §10: a subflow named by fallback_subflow_id / out_of_hours_subflow_id must be in the same flow. */
  async function checkSameFlowSubflow(q: Queryable, id: number | null | undefined, flowId: number, field: string): Promise<void> {
    if (id === null || id === undefined) return;
    const target = await requireParent(q, 'subflows', id, field);
    if (target.flow_id !== flowId) throw new ValidationError(`${field}: subflow ${id} belongs to another flow`);
  }

  async function checkParentSubflow(
    q: Queryable,
    parentId: number,
    flowId: number,
    selfId: number | undefined,
  ): Promise<void> {
    const parent = await requireParent(q, 'subflows', parentId, 'parent_subflow_id');
    if (parent.flow_id !== flowId) {
      throw new ValidationError(`parent_subflow_id: subflow ${parentId} belongs to another flow`);
    }
    if (selfId !== undefined && (await subflowAncestry(q, parentId)).includes(selfId)) {
      throw new ValidationError('parent_subflow_id: a subflow cannot be its own parent or ancestor');
    }
  }

  /**
   * The parent is locked FOR UPDATE first: creating a child takes a share lock on it, so no child
   * appears between the comparison and the update.
   */
  async function reorder(table: ChildTable, parentId: number, ids: readonly number[]): Promise<void> {
    await write(async (q) => {
      const parentTable = parentOf[table];
      await requireRow(q, parentTable, parentId, 'update');
      const current = await activeChildIdsInOrder(q, table, parentId);
      const problem = reorderProblem(current, ids, pluralNouns[table]);
      if (problem) throw new ValidationError(problem);
      await setOrder(q, table, ids);
      await insertActivity(q, ACTOR, {
        action: `${actionPrefixes[table]}.reordered`,
        details: { [parentColumns[table]]: parentId },
        before: current,
        after: ids,
      });
    });
  }

  async function refuseWithChildren(q: Queryable, subflow: SubflowRow, doing: string): Promise<void> {
    const children = await activeChildSubflowIds(q, subflow.id);
    if (children.length > 0) {
      throw new ConflictError(
        `subflow ${subflow.id} is the parent of active subflows ${children.join(', ')}: delete or move them before you ${doing}`,
      );
    }
  }

  return {
    listTemplates: () => listActiveTemplates(db),
    getTemplate: (id) => requireRow(db, 'flow_templates', id),
    createTemplate: (input) => write((q) => create(q, 'flow_templates', input)),
    updateTemplate: (id, input) =>
      write(async (q) => update(q, 'flow_templates', await requireRow(q, 'flow_templates', id, 'update'), input)),
    // A template's flows go with it: an active flow (maybe the default) under a deleted template
    // would keep answering contacts while the front end no longer shows it.
    deleteTemplate: (id) =>
      write(async (q) => {
        const template = await requireRow(q, 'flow_templates', id, 'update');
        for (const flow of await activeFlowsOfTemplate(q, id)) await deactivate(q, 'flows', flow, { is_default: false });
        await deactivate(q, 'flow_templates', template);
      }),

    async listFlows(templateId) {
      await requireRow(db, 'flow_templates', templateId);
      return listActiveFlows(db, templateId);
    },
    getFlow: (id) => requireRow(db, 'flows', id),
    createFlow: (input) =>
      write(async (q) => {
        await requireParent(q, 'flow_templates', input.template_id, 'template_id');
        const details = input.is_default ? await takeDefault(q, undefined) : {};
        return create(q, 'flows', input, details);
      }),
    updateFlow: (id, input) =>
      write(async (q) => {
        const before = await requireRow(q, 'flows', id, 'update');
        if (input.template_id !== undefined && input.template_id !== before.template_id) {
          await requireParent(q, 'flow_templates', input.template_id, 'template_id');
        }
        const details = input.is_default ? await takeDefault(q, id) : {};
        return update(q, 'flows', before, input, details);
      }),
    deleteFlow: (id) =>
      write(async (q) => deactivate(q, 'flows', await requireRow(q, 'flows', id, 'update'), { is_default: false })),

    async listSubflows(flowId) {
      await requireRow(db, 'flows', flowId);
      return listActiveSubflows(db, flowId);
    },
    getSubflow: (id) => requireRow(db, 'subflows', id),
    createSubflow: (input) =>
      write(async (q) => {
        await requireParent(q, 'flows', input.flow_id, 'flow_id');
        if (input.parent_subflow_id != null) {
          await checkParentSubflow(q, input.parent_subflow_id, input.flow_id, undefined);
        }
        await checkSameFlowSubflow(q, input.out_of_hours_subflow_id, input.flow_id, 'out_of_hours_subflow_id');
        return create(q, 'subflows', input);
      }),
    updateSubflow: (id, input) =>
      write(async (q) => {
        const before = await requireRow(q, 'subflows', id, 'update');
        const flowId = input.flow_id ?? before.flow_id;
        const movesFlow = flowId !== before.flow_id;
        if (movesFlow) {
          await requireParent(q, 'flows', flowId, 'flow_id');
          await refuseWithChildren(q, before, 'move it to another flow');
        }
        const parentId = input.parent_subflow_id === undefined ? before.parent_subflow_id : input.parent_subflow_id;
        if (parentId !== null && (movesFlow || parentId !== before.parent_subflow_id)) {
          await checkParentSubflow(q, parentId, flowId, id);
        }
        await checkSameFlowSubflow(q, input.out_of_hours_subflow_id, flowId, 'out_of_hours_subflow_id');
        return update(q, 'subflows', before, input);
      }),
    deleteSubflow: (id) =>
      write(async (q) => {
        const before = await requireRow(q, 'subflows', id, 'update');
        await refuseWithChildren(q, before, 'delete it');
        await deactivate(q, 'subflows', before);
      }),

    async listMessages(subflowId) {
      await requireRow(db, 'subflows', subflowId);
      return listActiveMessages(db, subflowId);
    },
    getMessage: (id) => requireRow(db, 'flow_messages', id),
    createMessage: (input) =>
      write(async (q) => {
        const subflow = await requireParent(q, 'subflows', input.subflow_id, 'subflow_id');
        await checkSameFlowSubflow(q, input.fallback_subflow_id, subflow.flow_id, 'fallback_subflow_id');
        return create(q, 'flow_messages', input);
      }),
    updateMessage: (id, input) =>
      write(async (q) => {
        const before = await requireRow(q, 'flow_messages', id, 'update');
        if (input.subflow_id !== undefined && input.subflow_id !== before.subflow_id) {
          await requireParent(q, 'subflows', input.subflow_id, 'subflow_id');
        }
        if (input.fallback_subflow_id != null) {
          const subflow = await requireRow(q, 'subflows', input.subflow_id ?? before.subflow_id);
          await checkSameFlowSubflow(q, input.fallback_subflow_id, subflow.flow_id, 'fallback_subflow_id');
        }
        return update(q, 'flow_messages', before, input);
      }),
    deleteMessage: (id) =>
      write(async (q) => deactivate(q, 'flow_messages', await requireRow(q, 'flow_messages', id, 'update'))),

    reorderFlows: (templateId, ids) => reorder('flows', templateId, ids),
    reorderSubflows: (flowId, ids) => reorder('subflows', flowId, ids),
    reorderMessages: (subflowId, ids) => reorder('flow_messages', subflowId, ids),
  };
}
