import type { StepEffectKind } from './effect-registry.js';

/**
 * Live inspection (SPEC §9): each step's input and resulting snapshot, turned into Stately frames
 * and published once the batch committed. Collected only while someone watches.
 */
export const inspectionEffect: StepEffectKind = {
  row: 'none: kept in the batch write set in memory, never written',
  executor: 'src/inspection/inspection-publisher.ts: one publish per committed batch (Redis pub/sub or in process) to the /inspect/ws viewers of every replica',
  retry: 'none: frames are disposable; a viewer that reconnects gets each conversation\'s current snapshot',
  failures: 'logged by the publisher; a slow viewer gets {type: "@flowbot.dropped", count}',
  collect(step, context, writes) {
    if (!context.inspection) return;
    writes.inspection.push({
      conversation: context.conversation,
      contactId: context.contact.id,
      flowId: step.flowId,
      startedWith: step.started ? step.machineConfig : null,
      input: step.input,
      snapshot: step.snapshot,
      showText: context.inspection.showText,
    });
  },
};
