import type { Knex } from 'knex';
import type { CoreDeps } from '../app-deps.js';
import { createFlowVersionStore, type FlowVersion, type FlowVersionStore } from '../flows/flow-versions.js';
import { lockContact, scheduleDeliverContact, scheduleProcessContact } from '../jobs/job-queue.js';
import {
  displayNameOf,
  FlowCompileError,
  SnapshotRestoreError,
  startConversation,
  stepConversation,
  type Contact,
  type StepResult,
} from '../../machines/index.js';
import { buildInputs, type BatchInput } from './conversation-inputs.js';
import {
  closeConversation,
  findActiveConversation,
  insertConversation,
  insertOutbound,
  insertReceivedFile,
  lastFuturePendingDue,
  lastOutboundTime,
  logActivity,
  markProcessed,
  saveProgress,
  selectInbox,
  touchConversation,
  type ConversationProgress,
  type InboxRow,
  type OutboundRow,
} from './conversation-repository.js';

export type ProcessOutcome =
  | { readonly kind: 'idle' }
  /** Replies of an earlier step are still due; the inputs wait so they answer the right prompt. */
  | { readonly kind: 'deferred'; readonly until: Date }
  | { readonly kind: 'processed'; readonly inputs: number; readonly replies: number }
  /** No runnable flow (none, or it does not compile): the inbox rows stay for a later run. */
  | { readonly kind: 'blocked'; readonly reason: string; readonly inputs: number; readonly replies: number }
  /** A human agent has the conversation: the inputs are kept in its history, unanswered. */
  | { readonly kind: 'paused'; readonly inputs: number };

export interface ConversationRuntime {
  processContact(contactId: number): Promise<ProcessOutcome>;
}

export interface ConversationRuntimeDeps extends CoreDeps {
  readonly flowVersions?: FlowVersionStore;
  /** epoch ms; tests may pin it */
  readonly now?: () => number;
}

interface ActiveConversation {
  readonly id: number;
  readonly version: FlowVersion;
  snapshot: unknown;
}

class BlockedError extends Error {}

export function createConversationRuntime(deps: ConversationRuntimeDeps): ConversationRuntime {
  const flowVersions = deps.flowVersions ?? createFlowVersionStore(deps);
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'conversation-runtime' });

  // A flow that cannot run must not crash the worker nor lose messages: the caller stops and the
  // inbox rows wait for a fixed flow (the recovery sweep brings them back).
  async function versionFor(load: () => Promise<FlowVersion | undefined>): Promise<FlowVersion> {
    let version: FlowVersion | undefined;
    try {
      version = await load();
    } catch (error) {
      if (error instanceof FlowCompileError) throw new BlockedError(`flow cannot be compiled: ${error.problems.join('; ')}`);
      throw new BlockedError(error instanceof Error ? error.message : String(error));
    }
    if (!version) throw new BlockedError('no active default flow');
    return version;
  }

  async function process(trx: Knex.Transaction, contactId: number): Promise<ProcessOutcome> {
    await lockContact(trx, 'process', contactId);
    const rows = await selectInbox(trx, contactId);
    if (rows.length === 0) return { kind: 'idle' };

    const nowMs = now();
    const busyUntil = await lastFuturePendingDue(trx, contactId, new Date(nowMs));
    if (busyUntil) {
      await scheduleProcessContact(trx, contactId, busyUntil, 'replace');
      return { kind: 'deferred', until: busyUntil };
    }

    const settings = await deps.settings.current();
    const cooldownMs = settings.MESSAGE_COOLDOWN * 1000;
    const timeoutMs = settings.CONVERSATION_TIMEOUT_MINUTES * 60_000;
    const contact = contactOf(contactId, rows);
    const progressOf = (step: StepResult): ConversationProgress => ({
      conversation_state: step.snapshot,
      current_subflow_id: step.position?.subflowId ?? null,
      current_message_id: step.position?.messageId ?? null,
      variables: step.variables,
      contact_name: contact.name || null,
      contact_number: contact.number || null,
      ticket_id: contact.ticketId,
    });

    let active: ActiveConversation | null = null;
    const existing = await findActiveConversation(trx, contactId);
    // Paused before the timeout check: only the agent (resume, close, reset) ends their hold.
    if (existing?.bot_paused_at) {
      await markProcessed(trx, rows.map((row) => row.id), existing.id);
      await touchConversation(trx, existing.id);
      return { kind: 'paused', inputs: rows.length };
    }
    if (existing && nowMs - new Date(existing.last_activity_at).getTime() > timeoutMs) {
      await closeConversation(trx, existing.id, 'timeout');
      await logActivity(trx, { conversationId: existing.id, contactId, action: 'conversation.timeout' });
    } else if (existing) {
      try {
        const version = await versionFor(() => flowVersions.get(existing.flow_version_id, trx));
        active = { id: existing.id, version, snapshot: existing.conversation_state };
      } catch (error) {
        return blocked(error, contactId, rows.length, 0);
      }
    }

    const outbound: OutboundRow[] = [];
    let lastDue = (await lastOutboundTime(trx, contactId))?.getTime();
    let consumed = 0;

    const startNew = async (item: BatchInput): Promise<StepResult> => {
      const version = await versionFor(() => flowVersions.forNewConversation(trx));
      const step = startConversation(version.flow, contact, item.input);
      const id = await insertConversation(trx, {
        ...progressOf(step),
        contact_id: contactId,
        flow_id: version.flowId,
        flow_version_id: version.versionId,
      });
      await logActivity(trx, {
        conversationId: id,
        contactId,
        action: 'conversation.started',
        details: { flow_id: version.flowId, flow_version_id: version.versionId },
      });
      active = { id, version, snapshot: step.snapshot };
      return step;
    };

    try {
      for (const item of buildInputs(rows, nowMs, cooldownMs)) {
        let step: StepResult;
        const current: ActiveConversation | null = active;
        if (current === null) {
          step = await startNew(item);
        } else {
          try {
            step = stepConversation(current.version.flow, current.snapshot, item.input);
          } catch (error) {
            if (!(error instanceof SnapshotRestoreError)) throw error;
            // Pinned versions make this unexpected; a fresh conversation beats a contact left unanswered.
            log.error({ contactId, conversationId: current.id, err: error.message }, 'conversation snapshot unusable; starting over');
            await closeConversation(trx, current.id, 'restore_failed');
            step = await startNew(item);
          }
        }
        const conversation = active as ActiveConversation | null;
        if (!conversation) throw new Error('no conversation after a step');

        let firstOfStep = true;
        for (const effect of step.effects) {
          switch (effect.kind) {
            case 'send': {
              const delayMs = effect.delaySeconds * 1000;
              // A reply to new input waits out the cooldown after the previous reply; the rest of
              // its chain follows at each message's own delay.
              const due = firstOfStep
                ? Math.max(nowMs + delayMs, lastDue === undefined ? -Infinity : lastDue + cooldownMs)
                : (lastDue ?? nowMs) + delayMs;
              firstOfStep = false;
              lastDue = due;
              outbound.push({
                conversation_id: conversation.id,
                contact_id: contactId,
                ticket_id: contact.ticketId,
                contact_name: contact.name || null,
                contact_number: contact.number || null,
                body: effect.text,
                flow_message_id: effect.messageId,
                reason: effect.reason,
                due_at: new Date(due),
              });
              break;
            }
            case 'file_received':
              await insertReceivedFile(trx, {
                conversation_id: conversation.id,
                message_history_id: item.fileRowId ?? item.rowIds[0] ?? 0,
                contact_id: contactId,
                flow_message_id: effect.messageId,
                file_name: displayNameOf(effect.file) || effect.file.name,
                file_type: effect.fileType,
                mime_type: effect.file.mimeType,
                media_url: effect.file.url,
                media_path: effect.file.path,
              });
              break;
            case 'keyword_matched':
              await logActivity(trx, {
                conversationId: conversation.id,
                contactId,
                action: 'keyword.matched',
                details: { subflow_id: effect.subflowId, keyword: effect.keyword },
              });
              break;
            case 'completed':
              await logActivity(trx, { conversationId: conversation.id, contactId, action: 'conversation.completed' });
              break;
            case 'variable_saved':
              break;
          }
        }
        await markProcessed(trx, item.rowIds, conversation.id);
        await saveProgress(trx, conversation.id, progressOf(step), step.done);
        consumed += item.rowIds.length;
        conversation.snapshot = step.snapshot;
        // The contact's next input starts a new conversation (SPEC §2 rule 5).
        if (step.done) active = null;
      }
    } catch (error) {
      if (!(error instanceof BlockedError)) throw error;
      await queueReplies(trx, contactId, outbound);
      return blocked(error, contactId, rows.length - consumed, outbound.length);
    }

    await queueReplies(trx, contactId, outbound);
    return { kind: 'processed', inputs: consumed, replies: outbound.length };
  }

  function blocked(error: unknown, contactId: number, waiting: number, replies: number): ProcessOutcome {
    const reason = error instanceof Error ? error.message : String(error);
    log.error({ contactId, waiting, reason }, 'cannot answer contact now; messages stay in the inbox');
    return { kind: 'blocked', reason, inputs: waiting, replies };
  }

  return {
    processContact(contactId) {
      return deps.db.transaction((trx) => process(trx, contactId));
    },
  };
}

async function queueReplies(trx: Knex.Transaction, contactId: number, outbound: readonly OutboundRow[]): Promise<void> {
  const first = outbound[0];
  if (!first) return;
  await insertOutbound(trx, outbound);
  await scheduleDeliverContact(trx, contactId, first.due_at, 'preserve_run_at');
}

/** The newest name, number and ticket GOSAC gave us: tickets change, replies go to the current one. */
function contactOf(contactId: number, rows: readonly InboxRow[]): Contact & { ticketId: number | null } {
  let name = '';
  let number = '';
  let ticketId: number | null = null;
  for (const row of rows) {
    if (row.contact_name) name = row.contact_name;
    if (row.contact_number) number = row.contact_number;
    if (row.ticket_id !== null) ticketId = row.ticket_id;
  }
  return { id: contactId, name, number, ticketId };
}
