// The send stage (docs/decisions/0004): one loop per worker process that claims due replies, at
// most one per contact, sends up to `concurrency` of them at once through GOSAC, and writes their
// outcomes in batches. It holds no graphile-worker job slot; all its state is in message_history.
import type { Database } from '../db/knex.js';
import type { GosacClient, SendOutcome } from '../integrations/gosac-client.js';
import { createBatcher } from '../shared/batcher.js';
import type { ServiceMetrics } from '../inspection/metrics.js';
import type { Logger } from '../shared/logger.js';
import type { PgListener } from '../shared/pg-listener.js';
import { notifyWake, OUTBOX_CHANNEL } from '../shared/wake-channels.js';
import { cpuSlices } from '../shared/cpu-slices.js';
import { createWakeSignal } from '../shared/wake-signal.js';
import { createOutboxRepository, type ClaimedReply, type ClaimResult, type OutcomeWrite } from './outbox-repository.js';
import { decideOutcome } from './send-policy.js';

export interface SendStageOptions {
  /** GOSAC calls in flight at once, across contacts (one per contact). */
  readonly concurrency?: number;
  /** Most replies one claim statement takes. */
  readonly claimBatch?: number;
  /** How long a claimed reply is ours: longer than a GOSAC call (see `sendLeaseMs`). */
  readonly leaseMs: number;
  /** Longest sleep between claims when nothing wakes the loop (a lost NOTIFY costs this much). */
  readonly idlePollMs?: number;
}

export const DEFAULT_SEND_CONCURRENCY = 512;
export const DEFAULT_CLAIM_BATCH = 128;
export const DEFAULT_IDLE_POLL_MS = 1_000;
const LEASE_MARGIN_MS = 5_000;

/** A lease that outlives one GOSAC call and the write of its outcome. */
export function sendLeaseMs(gosacTimeoutMs: number): number {
  return gosacTimeoutMs + LEASE_MARGIN_MS;
}

export interface SendStageDeps {
  readonly db: Database;
  /** Give it `maxSockets` ≈ concurrency: the stage keeps that many calls open at once. */
  readonly gosac: GosacClient;
  readonly logger: Logger;
  /** LISTENs on OUTBOX_CHANNEL: a committed reply (or a retry) wakes the loop on any replica. */
  readonly listener: PgListener;
  readonly options: SendStageOptions;
  readonly now?: () => number;
  readonly random?: () => number;
  /** flowbot_deliveries_total{result}: each call's outcome, and replies given up at the claim. */
  readonly metrics?: Pick<ServiceMetrics, 'deliveries'>;
}

/**
 * Free send slots held for a step batch that leases replies in its own write (ADR 0013): those
 * replies start as soon as the batch commits, without a claim. `start` must be called once, after
 * the batch's transaction ended, with the replies it leased (none when it rolled back); the slots
 * it did not use go back to the stage.
 */
export interface SendReservation {
  readonly slots: number;
  /** The lease to write on each reply, as a claim would. */
  readonly leaseMs: number;
  start(replies: readonly ClaimedReply[]): void;
}

export interface SendStage {
  /** Starts listening and claiming; resolves once the loop runs. */
  start(): Promise<void>;
  /** Claim now (something was committed in this process that may be due). */
  poke(): void;
  /** Up to `limit` free slots for a step batch's own leases (none unless the stage runs). */
  reserve(limit: number): SendReservation;
  /** True between start() and stop(). */
  running(): boolean;
  /**
   * Stops claiming, lets the calls in flight finish for up to `graceMs`, then aborts the rest and
   * records them as unknown outcomes (when the database still answers within about a second more).
   * Resolves within graceMs + 1 s, whatever GOSAC and the database do.
   */
  stop(graceMs: number): Promise<void>;
}

// After the grace time, aborted calls get this long to have their outcome written.
const ABORT_RECORD_MS = 1_000;
const MAX_CLAIM_RETRY_MS = 5_000;
const MAX_WRITE_RETRY_MS = 2_000;

export function createSendStage(deps: SendStageDeps): SendStage {
  const concurrency = positive(deps.options.concurrency ?? DEFAULT_SEND_CONCURRENCY, 'concurrency');
  const claimBatch = positive(deps.options.claimBatch ?? DEFAULT_CLAIM_BATCH, 'claimBatch');
  const leaseMs = positive(deps.options.leaseMs, 'leaseMs');
  const idlePollMs = positive(deps.options.idlePollMs ?? DEFAULT_IDLE_POLL_MS, 'idlePollMs');
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ component: 'send-stage' });
  const outbox = createOutboxRepository(deps.db);

  const inFlight = new Map<number, { readonly controller: AbortController; readonly done: Promise<void> }>();
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let loopDone: Promise<void> = Promise.resolve();
  /** Slots promised to step batches still writing (`reserve`): not the claim's to fill. */
  let reserved = 0;
  /** Slots the claim statement in flight may fill. */
  let claiming = 0;
  /** Replies leased (by a claim or a step batch) but not yet dispatched. */
  let starting = 0;
  const freeSlots = () => concurrency - inFlight.size - reserved - claiming - starting;
  /** The loop sleeps because every slot is busy or reserved: returned slots must wake it. */
  let starved = false;
  let stopping: Promise<void> | undefined;
  /** Past it, a stopping stage gives up writing outcomes (the leases expire and count as unknown). */
  let recordDeadline = Number.POSITIVE_INFINITY;

  // Wake-up: a poke while the loop claims makes it claim again at once instead of sleeping.
  const wake = createWakeSignal();
  const poke = () => wake.poke();
  const sleep = (ms: number): Promise<void> => (state === 'running' ? wake.wait(ms) : Promise.resolve());

  // Group commit of outcomes: everything that finishes while a batch is written goes in the next one.
  const outcomes = createBatcher<OutcomeWrite, boolean>((items) => outbox.recordOutcomes(items), {
    maxSize: Math.max(concurrency, 1),
    maxInFlight: 1,
  });

  async function writeOutcome(write: OutcomeWrite, ids: { contactId: number; conversationId: number | null }): Promise<void> {
    const { contactId, conversationId } = ids;
    let delay = 100;
    for (;;) {
      try {
        const applied = await outcomes.submit(write);
        if (!applied) {
          log.warn({ messageId: write.id, contactId, conversationId, outcome: write.kind }, 'reply no longer ours (lease lost or cancelled); outcome not recorded');
        }
        return;
      } catch (error) {
        if (state === 'stopped' || now() + delay > recordDeadline) {
          log.error(
            { messageId: write.id, contactId, conversationId, outcome: write.kind, err: errorText(error) },
            'could not record a reply outcome; when its lease expires it is retried once as an unknown outcome',
          );
          return;
        }
        log.warn({ messageId: write.id, contactId, conversationId, err: errorText(error), retryInMs: delay }, 'could not record a reply outcome; retrying');
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, MAX_WRITE_RETRY_MS);
      }
    }
  }

  async function deliver(reply: ClaimedReply, controller: AbortController): Promise<void> {
    let outcome: SendOutcome;
    try {
      outcome = await deps.gosac.send(
        { ticketId: reply.ticketId, contactId: reply.contactId, conversationId: reply.conversationId, text: reply.body },
        { signal: controller.signal },
      );
    } catch (error) {
      // The client reports failures as outcomes; a throw is a bug, and the call may have gone out.
      outcome = { ok: false, retryable: true, uncertain: true, error: errorText(error) };
    }
    const decision = decideOutcome(outcome, reply, random);
    const context = { messageId: reply.id, contactId: reply.contactId, conversationId: reply.conversationId, attempts: reply.attempts };
    deps.metrics?.deliveries.inc({ result: decision.kind === 'sent' ? decision.status : decision.kind });
    if (decision.kind === 'retry') {
      log.warn({ ...context, retryInMs: decision.delayMs, uncertain: decision.uncertain, error: decision.error }, 'reply not delivered; will retry');
    } else if (decision.kind === 'failed') {
      log.error({ ...context, uncertain: decision.uncertain, error: decision.error }, 'reply could not be delivered; giving up on it');
    }
    await writeOutcome({ ...decision, id: reply.id, claimedUntil: reply.claimedUntil }, reply);
  }

  function dispatch(reply: ClaimedReply): void {
    const controller = new AbortController();
    const done = deliver(reply, controller)
      .catch((error: unknown) => log.error({ messageId: reply.id, contactId: reply.contactId, conversationId: reply.conversationId, err: errorText(error) }, 'send failed unexpectedly'))
      .finally(() => {
        inFlight.delete(reply.id);
        // A slot is free, and the contact's next reply may be due now.
        poke();
      });
    inFlight.set(reply.id, { controller, done });
  }

  /** A claim that came back after stop() began: hand its leases back, untried, and wake the other workers. */
  async function release(replies: readonly ClaimedReply[]): Promise<void> {
    try {
      await outbox.recordOutcomes(replies.map((reply) => ({ id: reply.id, claimedUntil: reply.claimedUntil, kind: 'release' })));
      await notifyWake(deps.db, OUTBOX_CHANNEL);
    } catch (error) {
      log.warn({ err: errorText(error), replies: replies.length }, 'could not release claimed replies; their leases will expire');
    }
  }

  async function loop(): Promise<void> {
    let claimFailures = 0;
    while (state === 'running') {
      const capacity = Math.min(claimBatch, freeSlots());
      if (capacity <= 0) {
        // Every slot is busy: the next finished call, or a reservation given back, pokes.
        wake.clear();
        starved = true;
        await sleep(idlePollMs);
        starved = false;
        continue;
      }
      wake.clear();
      let claimed: ClaimResult;
      // Until its replies are counted as starting, a reservation must not promise these slots too.
      claiming = capacity;
      try {
        claimed = await outbox.claim(capacity, leaseMs);
        claimFailures = 0;
      } catch (error) {
        claiming = 0;
        claimFailures += 1;
        const retryInMs = Math.min(MAX_CLAIM_RETRY_MS, idlePollMs * 2 ** Math.min(claimFailures - 1, 6));
        log.warn({ err: errorText(error), retryInMs }, 'could not claim replies; trying again');
        wake.clear();
        await sleep(retryInMs);
        continue;
      }
      claiming = 0;
      if (state !== 'running') {
        // stop() began meanwhile: nothing new goes out.
        if (claimed.replies.length > 0) await release(claimed.replies);
        return;
      }
      for (const reply of claimed.givenUp) {
        deps.metrics?.deliveries.inc({ result: 'given_up' });
        log.error(
          { messageId: reply.id, contactId: reply.contactId, conversationId: reply.conversationId, uncertainAttempts: reply.uncertainAttempts },
          'reply given up: a worker died while sending it before, GOSAC may have it',
        );
      }
      if (!(await startAll(claimed.replies))) return;
      const taken = claimed.replies.length + claimed.givenUp.length;
      // A full claim may have left due replies behind; a given-up reply lets its contact's next one go.
      if (taken >= capacity || claimed.givenUp.length > 0) continue;
      await sleep(Math.max(1, Math.min(claimed.nextDueInMs ?? idlePollMs, idlePollMs)));
    }
  }

  /**
   * Starts leased replies a few milliseconds of CPU at a time. When stop() begins meanwhile, what
   * is not out yet goes back, and the answer is false.
   */
  async function startAll(replies: readonly ClaimedReply[]): Promise<boolean> {
    const slices = cpuSlices();
    starting += replies.length;
    for (const [index, reply] of replies.entries()) {
      await slices.next();
      if (state !== 'running') {
        starting -= replies.length - index;
        await release(replies.slice(index));
        return false;
      }
      starting -= 1;
      dispatch(reply);
    }
    return true;
  }

  function reserve(limit: number): SendReservation {
    const slots = state === 'running' ? Math.max(0, Math.min(Math.floor(limit), freeSlots())) : 0;
    reserved += slots;
    let open = true;
    return {
      slots,
      leaseMs,
      start(replies) {
        if (!open) throw new Error('send reservation already started');
        open = false;
        reserved -= slots;
        if (replies.length > slots) {
          // A writer that ignores its slots: the extra calls still go (their leases are written), over the limit.
          log.error({ slots, replies: replies.length }, 'a step batch leased more replies than it reserved slots for');
        }
        if (replies.length > 0) {
          startAll(replies).catch((error: unknown) => log.error({ err: errorText(error) }, 'could not start leased replies; their leases will expire'));
        }
        if (starved && replies.length < slots) poke();
      },
    };
  }

  async function settled(timeoutMs: number): Promise<void> {
    if (inFlight.size === 0 || timeoutMs <= 0) return;
    await withTimeout(Promise.allSettled([...inFlight.values()].map((call) => call.done)), timeoutMs);
  }

  async function shutdown(graceMs: number): Promise<void> {
    const deadline = now() + Math.max(0, graceMs);
    recordDeadline = deadline + ABORT_RECORD_MS;
    state = 'stopping';
    wake.poke();
    // No call starts after this point: a claim still running releases what it took.
    await withTimeout(loopDone, deadline - now());
    // Calls that finish on their own, with their outcome writes, until the grace time runs out.
    await settled(deadline - now());
    if (inFlight.size > 0) {
      log.warn({ inFlight: inFlight.size }, 'aborting GOSAC calls still in flight; recorded as unknown outcomes');
      for (const call of inFlight.values()) call.controller.abort();
      await settled(recordDeadline - now());
    }
    state = 'stopped';
    if (inFlight.size > 0) {
      log.error({ inFlight: inFlight.size }, 'stopped with reply outcomes unrecorded; their leases will expire');
    }
  }

  return {
    async start() {
      if (state !== 'new') throw new Error('send stage already started');
      try {
        await deps.listener.listen(OUTBOX_CHANNEL, poke);
      } catch (error) {
        log.warn({ err: errorText(error), pollMs: idlePollMs }, 'cannot LISTEN for new replies; polling until the listener reconnects');
      }
      state = 'running';
      wake.poke();
      loopDone = loop().catch((error: unknown) => {
        log.error({ err: errorText(error) }, 'send loop crashed');
        if (state === 'running') state = 'stopped';
      });
      log.info({ concurrency, claimBatch, leaseMs, idlePollMs }, 'send stage started');
    },
    poke() {
      if (state === 'running') poke();
    },
    reserve,
    running() {
      return state === 'running';
    },
    stop(graceMs) {
      if (state === 'new') {
        state = 'stopped';
        return Promise.resolve();
      }
      stopping ??= shutdown(graceMs);
      return stopping;
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`send stage ${name} must be a positive number`);
  return value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
