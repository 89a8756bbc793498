// The executor of the inspection effect (src/effects/inspection-effect.ts), in worker processes:
// after a step batch commits, its steps become Stately frames, published in one message for the
// whole batch. While nobody watches, the step engine collects nothing for it at all.
import { createHash } from 'node:crypto';
import type { InspectedStep, StepWrites } from '../effects/step-writes.js';
import type { Logger } from '../shared/logger.js';
import type { SharedState } from '../shared/shared-state.js';
import { actorFrame, encodeItems, eventFrame, snapshotFrame, type InspectionItem } from './inspection-frames.js';

export interface InspectionChannels {
  /** Frames of committed batches, one message per batch (`encodeItems`). */
  readonly frames: string;
  /** A replica's viewer count went from 0 to 1: publishers look again at once. */
  readonly presence: string;
}

/**
 * Pub/sub channels ignore Redis database numbers: named after the PostgreSQL database (host, port,
 * name; never the password), so deployments or test runs sharing one Redis never see each other's
 * conversations.
 */
export function inspectionChannels(databaseUrl: string): InspectionChannels {
  let scope = 'default';
  try {
    const url = new URL(databaseUrl);
    scope = createHash('sha256').update(`${url.hostname}:${url.port}${url.pathname}`).digest('hex').slice(0, 16);
  } catch {
    // not a URL: one scope for everything
  }
  return { frames: `flowbot:inspect:${scope}:frames`, presence: `flowbot:inspect:${scope}:presence` };
}

export interface InspectionPublisher {
  start(): Promise<void>;
  /** Is anyone, on any replica, watching? Answered from memory; refreshed in the background. */
  watching(): boolean;
  /** After the commit of `writes`: publishes its inspected steps (nothing when there are none). */
  publish(writes: Pick<StepWrites, 'inspection'>): void;
  close(): Promise<void>;
}

/** How long a "nobody watches" answer is trusted before the subscriber count is asked again. */
const RECHECK_MS = 1_000;

export function createInspectionPublisher(deps: {
  readonly channels: InspectionChannels;
  readonly sharedState: SharedState;
  readonly logger: Logger;
  readonly now?: () => number;
}): InspectionPublisher {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'inspection' });
  let subscribers = 0;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let checking = false;

  function recheck(): void {
    if (checking) return;
    checking = true;
    deps.sharedState
      .subscriberCount(deps.channels.frames)
      .then((count) => {
        subscribers = count;
        checkedAt = now();
      })
      .catch(() => undefined)
      .finally(() => {
        checking = false;
      });
  }
  const onPresence = () => {
    checkedAt = Number.NEGATIVE_INFINITY;
    checking = false;
    recheck();
  };

  return {
    async start() {
      await deps.sharedState.subscribe(deps.channels.presence, onPresence);
      recheck();
    },
    watching() {
      if (now() - checkedAt > RECHECK_MS) recheck();
      return subscribers > 0;
    },
    publish(writes) {
      if (writes.inspection.length === 0) return;
      const message = encodeItems(itemsOf(writes.inspection, now()));
      deps.sharedState.publish(deps.channels.frames, message).catch((error: unknown) => {
        log.warn({ err: String(error), steps: writes.inspection.length }, 'could not publish inspection frames; viewers miss these steps');
      });
    },
    async close() {
      await deps.sharedState.unsubscribe(deps.channels.presence, onPresence);
    },
  };
}

/** Steps in their batch order, grouped per conversation: its actor when it began, then event and snapshot per input. */
export function itemsOf(steps: readonly InspectedStep[], at: number): InspectionItem[] {
  const items = new Map<number, InspectionItem>();
  for (const step of steps) {
    const conversationId = step.conversation.id;
    let item = items.get(conversationId);
    if (!item) {
      item = { conversationId, contactId: step.contactId, flowId: step.flowId, frames: [] };
      items.set(conversationId, item);
    }
    const options = { showText: step.showText };
    if (step.startedWith) {
      const context = (step.snapshot as { context?: unknown } | null)?.context;
      const initial = { status: 'active', value: step.startedWith.initial ?? null, context };
      item.frames.push(actorFrame({ conversationId, at, machineConfig: step.startedWith, snapshot: initial, options }));
    }
    item.frames.push(eventFrame({ conversationId, at, input: step.input, options }));
    item.frames.push(snapshotFrame({ conversationId, at, input: step.input, snapshot: step.snapshot, options }));
  }
  return [...items.values()];
}
