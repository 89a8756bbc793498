// The pure core's cost, without I/O: one compile of a 1,000-message flow, and one conversation
// step (restore the persisted snapshot → transition → persisted snapshot + effects) on it.
// Medians over many runs, so a GC pause or a JIT tier-up does not pick the figure.
import {
  compileFlow,
  startConversation,
  stepConversation,
  type FlowDefinition,
  type MessageDefinition,
} from '../machines/index.js';
import { median } from './bench-environment.js';

export interface MachineCostResult {
  messages: number;
  compileMedianMs: number;
  compileRuns: number;
  stepMedianUs: number;
  stepRuns: number;
}

// 20 subflows × 50 messages, every one waiting for a response, each subflow behind a keyword:
// the matcher sees 20 keywords on every input, like a large real menu.
function largeFlow(subflows: number, perSubflow: number): FlowDefinition {
  let id = 0;
  return {
    flowId: 1,
    name: 'bench',
    subflows: Array.from({ length: subflows }, (_, s) => ({
      id: 10_000 + s,
      name: `Assunto ${s}`,
      orderIndex: s,
      parentSubflowId: s === 0 ? null : 10_000,
      triggerKeywords: [`assunto ${s}`, `opção ${s}`],
      messages: Array.from({ length: perSubflow }, (_, m): MessageDefinition => {
        id += 1;
        return {
          id,
          text: `Pergunta ${m} do assunto ${s}, {{contact_name}}?`,
          type: 'text',
          orderIndex: m,
          waitForResponse: true,
          waitForFile: false,
          expectedFileTypes: [],
          delaySeconds: 0,
          saveResponseAs: m === 0 ? `resposta_${s}` : null,
        };
      }),
    })),
  };
}

export function runMachineCostBench(options: { compileRuns?: number; stepRuns?: number } = {}): MachineCostResult {
  const compileRuns = options.compileRuns ?? 30;
  const stepRuns = options.stepRuns ?? 3_000;
  const definition = largeFlow(20, 50);
  const messages = definition.subflows.reduce((sum, subflow) => sum + subflow.messages.length, 0);

  const compileTimes: number[] = [];
  let flow = compileFlow(definition);
  for (let run = 0; run < compileRuns; run += 1) {
    const started = performance.now();
    flow = compileFlow(definition);
    compileTimes.push(performance.now() - started);
  }

  const contact = { id: 1, name: 'Ana', number: '5511999990000' };
  const input = (text: string) => ({ type: 'USER_INPUT' as const, text, file: null, at: Date.now(), cooldownMs: 0 });
  // Rest the conversation in the middle of a subflow, then time the same step again and again.
  let snapshot = startConversation(flow, contact, input('oi')).snapshot;
  for (let step = 0; step < 25; step += 1) snapshot = stepConversation(flow, snapshot, input(`resposta ${step}`)).snapshot;
  const stepTimes: number[] = [];
  for (let run = 0; run < stepRuns; run += 1) {
    const started = performance.now();
    const result = stepConversation(flow, snapshot, input(`resposta ${run}`));
    stepTimes.push(performance.now() - started);
    if (result.effects.length === 0) throw new Error('a bench step sent nothing');
  }
  return {
    messages,
    compileMedianMs: median(compileTimes),
    compileRuns,
    stepMedianUs: median(stepTimes) * 1000,
    stepRuns,
  };
}
