import type { CoreDeps } from '../../src/app-deps.js';
import { createStepEngine, type StepEngine, type StepEngineDeps } from '../../src/conversations/step-engine.js';
import { createFlowVersionStore } from '../../src/flows/flow-versions.js';

/** A step engine that runs only when the test calls `runBatch` (no loop, no listener). */
export function createTestStepEngine(
  deps: CoreDeps,
  options: { now?: () => number; batchSize?: number } & Pick<StepEngineDeps, 'sends' | 'onReplies'> = {},
): StepEngine {
  return createStepEngine({
    ...deps,
    flowVersions: createFlowVersionStore(deps),
    options: { batchSize: options.batchSize ?? 64, concurrency: 1, idlePollMs: 1_000 },
    ...(options.now ? { now: options.now } : {}),
    ...(options.sends ? { sends: options.sends } : {}),
    ...(options.onReplies ? { onReplies: options.onReplies } : {}),
  });
}
