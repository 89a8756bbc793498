import type { Knex } from 'knex';
import type pg from 'pg';
import type { CoreDeps } from '../app-deps.js';
import { createFlowVersionStore, type FlowVersion, type FlowVersionStore } from '../flows/flow-versions.js';
import type { GosacClient, SendOutcome } from '../integrations/gosac-client.js';
import { lockContact, scheduleDeliverContact, scheduleProcessContact } from '../jobs/job-queue.js';
import { recordSendOutcome } from '../jobs/tasks/deliver-contact.js';
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
  insertConversation,
  insertReceivedFile,
  logActivity,
  markProcessed,
  saveProgress,
  DELIVERY_SESSION_LOCK_KEY,
  readProcessState,
  touchConversation,
  type ConversationProgress,
  type InboxRow,
  type OutboundRow,
  type UnsavedProgress,
  writeStep,
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
  /** `signal` aborts the inline GOSAC call of a stopping worker (the row then stays pending). */
  processContact(contactId: number, options?: { readonly signal?: AbortSignal }): Promise<ProcessOutcome>;
}

export interface ConversationRuntimeDeps extends CoreDeps {
  readonly flowVersions?: FlowVersionStore;
  /** epoch ms; tests may pin it */
  readonly now?: () => number;
  /** When set, replies already due are sent inline by the step that made them (see queueReplies). */
  readonly gosac?: GosacClient;
  readonly random?: () => number;
}

interface ActiveConversation {
  readonly id: number;
  readonly version: FlowVersion;
  snapshot: unknown;
}

class BlockedError extends Error {}

interface InlineRow {
  readonly id: number;
  readonly ticketId: number | null;
  readonly body: string;
}

interface InlinePlan {
  /** This connection holds the contact's delivery lock (session level) and must release it. */
  locked: boolean;
  /** Replies of this step due now, in id order, to send after the COMMIT. */
  readonly rows: InlineRow[];
}

const MARK_SENT_SQL =
  "UPDATE message_history SET status = $2, sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1 AND status = 'pending'";
// The unlock runs per updated row, so strictly after the row is updated: a deliver_contact that
// gets the lock next finds the row locked by this statement and then no longer pending.
const MARK_SENT_AND_UNLOCK_SQL = `WITH sent AS (${MARK_SENT_SQL} RETURNING id)
SELECT pg_advisory_unlock(${DELIVERY_SESSION_LOCK_KEY.replace('$1', '$3')}) AS unlocked FROM sent`;

export function createConversationRuntime(deps: ConversationRuntimeDeps): ConversationRuntime {
  const flowVersions = deps.flowVersions ?? createFlowVersionStore(deps);
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'conversation-runtime' });
  const gosac = deps.gosac;
  const outcomeContext = { now, random: deps.random ?? Math.random, log: deps.logger.child({ component: 'delivery' }) };

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

  async function process(trx: Knex.Transaction, contactId: number, inline: InlinePlan | null): Promise<ProcessOutcome> {
    await lockContact(trx, 'process', contactId);
    const nowMs = now();
    const state = await readProcessState(trx, contactId, new Date(nowMs), inline !== null);
    if (inline && state.deliveryFree) inline.locked = true;
    const rows = state.inbox;
    if (rows.length === 0) return { kind: 'idle' };

    const busyUntil = state.busyUntil;
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
    const existing = state.existing;
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
    // The latest progress of the running conversation, written with the outbox rows in one
    // statement at the end (or before anything that must see it: a conversation closed or started).
    let unsaved: UnsavedProgress | null = null;
    const flush = async () => {
      if (!unsaved) return;
      await markProcessed(trx, unsaved.rowIds, unsaved.conversationId);
      await saveProgress(trx, unsaved.conversationId, unsaved.progress, unsaved.completed);
      unsaved = null;
    };
    let lastDue = state.lastOutbound?.getTime();
    let consumed = 0;

    const startNew = async (item: BatchInput): Promise<StepResult> => {
      await flush();
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
            await flush();
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
        const pending = unsaved as UnsavedProgress | null;
        if (pending && pending.conversationId !== conversation.id) await flush();
        unsaved = {
          conversationId: conversation.id,
          progress: progressOf(step),
          completed: step.done,
          rowIds: [...((unsaved as UnsavedProgress | null)?.rowIds ?? []), ...item.rowIds],
        };
        consumed += item.rowIds.length;
        conversation.snapshot = step.snapshot;
        // The contact's next input starts a new conversation (SPEC §2 rule 5).
        if (step.done) active = null;
      }
    } catch (error) {
      if (!(error instanceof BlockedError)) throw error;
      await queueReplies(trx, contactId, unsaved, outbound, inline);
      return blocked(error, contactId, rows.length - consumed, outbound.length);
    }

    await queueReplies(trx, contactId, unsaved, outbound, inline);
    return { kind: 'processed', inputs: consumed, replies: outbound.length };
  }

  /**
   * Stores the step's replies. When this run may deliver them itself (`inline.locked`: no earlier
   * reply pending, the delivery lock held by this connection), the replies already due are left
   * for `deliverInline` after the COMMIT, and only the rest gets a deliver_contact job.
   */
  async function queueReplies(
    trx: Knex.Transaction,
    contactId: number,
    unsaved: UnsavedProgress | null,
    outbound: readonly OutboundRow[],
    inline: InlinePlan | null,
  ): Promise<void> {
    if (outbound.length === 0 && !unsaved) return;
    const ids = await writeStep(trx, unsaved, outbound);
    let index = 0;
    if (inline?.locked) {
      const at = now();
      for (; index < outbound.length && outbound[index]!.due_at.getTime() <= at; index += 1) {
        const row = outbound[index]!;
        inline.rows.push({ id: ids[index]!, ticketId: row.ticket_id, body: row.body });
      }
    }
    const first = outbound[index];
    if (first) await scheduleDeliverContact(trx, contactId, first.due_at, 'preserve_run_at');
  }

  /**
   * Sends the step's due replies right after its COMMIT, in id order, on the connection that holds
   * the contact's delivery lock (so no deliver_contact runs for the contact meanwhile), each
   * recorded as deliver_contact would: the failure window stays the documented one (GOSAC
   * answered, we died before recording `sent`: the row is still pending and the recovery sweep
   * sends it again). A failure never touches the committed step: the row keeps its place with its
   * backoff and deliver_contact takes over; anything unexpected leaves the rows pending for a
   * deliver_contact job queued now. Releases the lock, in the last `sent` update when it can.
   */
  /** Resolves false when the lock was released with the last update, true when it is still held. */
  async function deliverInline(
    connection: pg.ClientBase,
    contactId: number,
    rows: readonly InlineRow[],
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    let index = 0;
    try {
      for (; index < rows.length; index += 1) {
        const row = rows[index]!;
        let outcome: SendOutcome;
        try {
          outcome = await gosac!.send({ ticketId: row.ticketId, contactId, text: row.body }, { signal });
        } catch (error) {
          outcome = { ok: false, retryable: true, error: error instanceof Error ? error.message : String(error) };
        }
        if (outcome.ok) {
          const last = index === rows.length - 1;
          const result = await connection.query(last ? MARK_SENT_AND_UNLOCK_SQL : MARK_SENT_SQL, [
            row.id,
            outcome.dryRun ? 'dry_run' : 'sent',
            ...(last ? [contactId] : []),
          ]);
          if (last) return result.rows[0]?.unlocked !== true;
          continue;
        }
        const recorded = await deps.db.transaction(
          (trx) => recordSendOutcome(trx, contactId, { id: row.id, attempts: 0 }, outcome, outcomeContext),
          { connection },
        );
        // Backing off: recordSendOutcome queued the delivery job for the retry time.
        if (recorded === 'waiting') return true;
      }
    } catch (error) {
      log.warn({ contactId, err: error instanceof Error ? error.message : String(error) }, 'inline delivery failed; leaving it to deliver_contact');
      if (index < rows.length) {
        await scheduleDeliverContact(deps.db, contactId, { delayMs: 0 }, 'preserve_run_at').catch(() => undefined);
      }
    }
    return true;
  }

  function blocked(error: unknown, contactId: number, waiting: number, replies: number): ProcessOutcome {
    const reason = error instanceof Error ? error.message : String(error);
    log.error({ contactId, waiting, reason }, 'cannot answer contact now; messages stay in the inbox');
    return { kind: 'blocked', reason, inputs: waiting, replies };
  }

  return {
    async processContact(contactId, options = {}) {
      if (!gosac) return deps.db.transaction((trx) => process(trx, contactId, null));
      // One connection for the step's transaction and the inline delivery after it: the delivery
      // lock it takes is session-level, so it is still held after the COMMIT.
      const connection = (await deps.db.client.acquireConnection()) as pg.ClientBase & { __knex__disposed?: unknown };
      const inline: InlinePlan = { locked: false, rows: [] };
      let released = false;
      try {
        const outcome = await deps.db.transaction((trx) => process(trx, contactId, inline), { connection });
        if (inline.locked && inline.rows.length > 0) released = !(await deliverInline(connection, contactId, inline.rows, options.signal));
        return outcome;
      } catch (error) {
        // A statement that failed after its lock function ran would keep the session lock too.
        inline.locked = true;
        throw error;
      } finally {
        if (inline.locked && !released) {
          try {
            await connection.query('SELECT pg_advisory_unlock_all()');
          } catch (error) {
            // A lock that could not be released must not stay in the pool: drop the connection.
            log.warn({ contactId, err: String(error) }, 'could not release the delivery lock; dropping the connection');
            connection.__knex__disposed = error;
          }
        }
        await deps.db.client.releaseConnection(connection);
      }
    },
  };
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
