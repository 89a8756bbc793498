// Conversation steps end to end: webhook in → worker transition → reply at the GOSAC sink, with
// many contacts at once and debounce off. One step = one contact message answered by one reply.
import {
  BENCH_ADMIN_TOKEN,
  createBenchDatabase,
  percentile,
  startGosacSink,
  startServiceProcess,
} from './bench-environment.js';

export interface StepBenchOptions {
  contacts: number;
  stepsPerContact: number;
  workerProcesses: number;
}

export interface StepBenchResult {
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const QUESTIONS = 10;

export async function runConversationStepBench(options: StepBenchOptions): Promise<StepBenchResult> {
  const database = await createBenchDatabase();
  const sink = await startGosacSink();
  const common = {
    DATABASE_URL: database.url,
    GOSAC_BASE_URL: sink.url,
    GOSAC_AUTHORIZATION_KEY: 'INTEGRATION bench',
    DEBOUNCE_TIME: '0',
    MESSAGE_COOLDOWN: '0',
  };
  const web = await startServiceProcess({
    ...common,
    ROLE: options.workerProcesses === 0 ? 'both' : 'web',
  });
  const workers = [];
  for (let i = 0; i < options.workerProcesses; i += 1) {
    workers.push(await startServiceProcess({ ...common, ROLE: 'worker' }));
  }
  try {
    await createQuestionFlow(web.url);
    const latencies: number[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.contacts }, (_, index) =>
        runContact(web.url, sink, 900_000 + index, options.stepsPerContact, latencies),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      steps: latencies.length,
      seconds,
      stepsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
  } finally {
    for (const worker of workers) await worker.stop();
    await web.stop();
    await sink.close();
    await database.close();
  }
}

async function runContact(
  url: string,
  sink: Awaited<ReturnType<typeof startGosacSink>>,
  contactId: number,
  steps: number,
  latencies: number[],
): Promise<void> {
  for (let step = 0; step < steps; step += 1) {
    const reply = sink.nextMessageFor(contactId);
    const sentAt = performance.now();
    const response = await fetch(`${url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookBody(contactId, `resposta ${step}`, `B${contactId}S${step}`)),
    });
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
    await response.arrayBuffer();
    const { at } = await reply;
    latencies.push(at - sentAt);
  }
}

function webhookBody(contactId: number, body: string, id: string) {
  return {
    type: 'messages:created',
    data: {
      id,
      body,
      mediaType: 'text',
      fromMe: false,
      fromGroup: false,
      ticketId: contactId,
      contactId,
      contact: { name: 'Bench', number: `55${contactId}` },
      ticket: { id: contactId, status: 'pending', userId: null },
    },
  };
}

// Ten questions that each wait for a response: every step is answered by exactly one message
// (the last question is a menu and re-prompts), so steps and replies pair up one to one.
async function createQuestionFlow(url: string): Promise<void> {
  const post = async (path: string, body: unknown): Promise<number> => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_TOKEN}` },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { id: number };
    if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer.id;
  };
  const templateId = await post('/api/flow-templates', { name: 'Bench' });
  const flowId = await post('/api/flows', { template_id: templateId, name: 'Bench', is_default: true });
  const subflowId = await post('/api/subflows', { flow_id: flowId, name: 'Perguntas', trigger_keywords: ['menu'] });
  for (let index = 0; index < QUESTIONS; index += 1) {
    await post('/api/flow-messages', {
      subflow_id: subflowId,
      message_text: `Pergunta ${index + 1}, {{contact_name}}?`,
      order_index: index,
    });
  }
}
