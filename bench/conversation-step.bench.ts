// Conversation steps end to end: webhook in → worker transition → reply at the GOSAC sink, with
// many contacts at once and debounce off. One step = one contact message answered by one reply.
// Latency is measured from sending the webhook to the sink's answer to the reply (arrival + the
// sink's latency, BENCH_GOSAC_LATENCY_MS). Two load shapes:
// - saturated (runConversationStepBench): every contact sends its next message as soon as its
//   previous one was answered (closed loop), so the figure is the service's ceiling;
// - paced (runPacedStepBench): arrivals at a fixed overall rate from a scheduler (open loop),
//   spread over the contacts, a contact only sending once its previous reply arrived.
import { readFile } from 'node:fs/promises';
import type { TestDatabase } from '../test/support/test-database.js';
import {
  adminPost,
  cpuMsOf,
  createBenchDatabase,
  createJsonPoster,
  percentile,
  sampleRss,
  type SinkMessage,
  startGosacSink,
  startServiceProcess,
  webhookBody,
  type GosacSink,
  type ServiceProcess,
} from './bench-environment.js';

export interface StepBenchOptions {
  contacts: number;
  stepsPerContact: number;
  /** 0: one process with both roles; n: a ROLE=web process and n ROLE=worker processes. */
  workerProcesses: number;
  /** Hard stop for the measured part. */
  maxSeconds: number;
  /** Extra node arguments for every service process (profiling). */
  nodeArgs?: (label: string) => readonly string[];
  /** Per-process statement counters written by bench/count-queries.mjs. */
  queryCountFile?: (label: string) => string;
  env?: Record<string, string>;
  /** How long the GOSAC sink takes to answer each reply (0: at once). */
  gosacLatencyMs?: number;
  /**
   * Runs after the warm-up, before the measured part (e.g. viewers connecting); what the returned
   * function gives after the measured part lands in the result's `during`.
   */
  during?: (url: string) => Promise<() => Promise<Record<string, number>>>;
  /** Break each step's time down into its phases (`StepPhases`), from its rows and the sink. */
  phases?: boolean;
}

/**
 * Where a step's time went, over every measured step: each phase's p50, p90 and mean in ms. The
 * means of the first four add up to the mean latency. Timestamps come from two clocks on one
 * machine, the bench's (performance.timeOrigin + now) and PostgreSQL's `now()` (the start of the
 * transaction that wrote the row), so phases are good to a millisecond or so.
 */
export interface StepPhases {
  /** Webhook sent → its message row inserted (HTTP, parsing, the intake's group commit queue). */
  readonly webhookToStored: PhaseFigures;
  /** Inserted → the step batch that took it began (the inbox wait: loops busy, the wake-up). */
  readonly storedToStepped: PhaseFigures;
  /** That batch began → the reply arrived at the sink (step, write, commit, lease or claim, the call). */
  readonly steppedToGosac: PhaseFigures;
  /** Arrived at the sink → the sink answered (its configured latency, plus its own delays). */
  readonly gosacAnswer: PhaseFigures;
  /** The sink answered the previous reply → the contact's next webhook left (the bench's client). */
  readonly answerToNextWebhook: PhaseFigures;
}

export interface PhaseFigures {
  readonly p50: number;
  readonly p90: number;
  readonly mean: number;
}

export interface StepBenchResult {
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxRssBytes: Record<string, number>;
  /** What `during` reported. */
  during?: Record<string, number>;
  /** CPU time the service processes used per step during the measured part (ms). */
  cpuMsPerStep?: number;
  /** Statements per step over every process, when counted. */
  queriesPerStep?: { total: number; app: number; graphileWorker: number; byKind: Record<string, number> };
  /** With `options.phases`. */
  phases?: StepPhases;
}

const QUESTIONS = 10;

interface QueryCounts {
  total: number;
  app: number;
  graphileWorker: number;
  byKind: Record<string, number>;
}

interface StepEnvironment {
  url: string;
  database: TestDatabase;
  sink: GosacSink;
  processes: Record<string, ServiceProcess>;
}

/** Database, sink and service processes with the question flow, warmed up; torn down after `body`. */
async function withStepEnvironment<T>(options: StepBenchOptions, body: (environment: StepEnvironment) => Promise<T>): Promise<T> {
  const database = await createBenchDatabase();
  const sink = await startGosacSink({ latencyMs: options.gosacLatencyMs ?? 0 });
  const common = {
    DATABASE_URL: database.url,
    GOSAC_BASE_URL: sink.url,
    GOSAC_AUTHORIZATION_KEY: 'INTEGRATION bench',
    DEBOUNCE_TIME: '0',
    MESSAGE_COOLDOWN: '0',
    ...options.env,
  };
  const processes: Record<string, ServiceProcess> = {};
  const start = async (label: string, role: string) => {
    const countFile = options.queryCountFile?.(label);
    processes[label] = await startServiceProcess(
      { ...common, ROLE: role, ...(countFile ? { QUERY_COUNT_FILE: countFile } : {}) },
      { nodeArgs: options.nodeArgs?.(label) ?? [] },
    );
  };
  try {
    await start('web', options.workerProcesses === 0 ? 'both' : 'web');
    for (let i = 1; i <= options.workerProcesses; i += 1) await start(`worker ${i}`, 'worker');
    const url = processes.web!.url;
    await createQuestionFlow(url);
    // Warm-up contacts (not measured): JIT, pools, the compiled flow in every worker's cache.
    await Promise.all(Array.from({ length: 20 }, (_, index) => runContact(url, sink, 800_000 + index, 3, [], 'W')));
    return await body({ url, database, sink, processes });
  } finally {
    // A later run's service may get this port again: it must not inherit these sockets.
    const url = processes.web?.url;
    if (url) {
      posters.get(url)?.close();
      posters.delete(url);
    }
    for (const [label, service] of Object.entries(processes).reverse()) {
      const code = await service.stop();
      if (code !== 0) console.error(`${label} exited with ${code}`);
    }
    await sink.close();
    await database.drop();
  }
}

export async function runConversationStepBench(options: StepBenchOptions): Promise<StepBenchResult> {
  return withStepEnvironment(options, async ({ url, database, sink, processes }) => {
    const stopDuring = await options.during?.(url);
    const countsBefore = await readCounts(options, Object.keys(processes));
    const rss = sampleRss(processes);
    const cpuBefore = cpuMsOf(processes);
    const traces: StepTrace[] = [];
    const deadline = performance.now() + options.maxSeconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: options.contacts }, (_, index) =>
        runContact(url, sink, 900_000 + index, options.stepsPerContact, traces, 'B', deadline),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const latencies = traces.map((trace) => trace.reply.at - trace.sentAt);
    const cpuAfter = cpuMsOf(processes);
    const maxRssBytes = rss.stop();
    const during = await stopDuring?.();
    // Let the counters flush their last figures.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const countsAfter = await readCounts(options, Object.keys(processes));
    latencies.sort((a, b) => a - b);
    const steps = latencies.length;
    return {
      steps,
      seconds,
      stepsPerSecond: steps / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxRssBytes,
      ...(during ? { during } : {}),
      ...(cpuBefore !== undefined && cpuAfter !== undefined && latencies.length > 0 ? { cpuMsPerStep: (cpuAfter - cpuBefore) / latencies.length } : {}),
      ...(countsBefore && countsAfter ? { queriesPerStep: perStep(countsBefore, countsAfter, steps) } : {}),
      ...(options.phases ? { phases: await phasesOf(database, traces) } : {}),
    };
  });
}

export interface PacedStepBenchOptions {
  contacts: number;
  /** Arrivals per second over all contacts. */
  ratePerSecond: number;
  /** Length of the arrival schedule; arrivals = rate × seconds. */
  seconds: number;
  workerProcesses: number;
  gosacLatencyMs?: number;
  env?: Record<string, string>;
}

export interface PacedStepBenchResult extends StepBenchResult {
  /** Arrivals sent more than 10 ms after their scheduled time (every contact busy, or the generator late). */
  lateArrivals: number;
  /** The worst delay of an arrival behind its schedule. */
  maxLagMs: number;
}

/**
 * Open-loop load at `ratePerSecond`: arrival n is due at start + n / rate; a due arrival goes to
 * the contact idle the longest (FIFO), and a contact is idle again once its reply arrived. When no
 * contact is idle the arrival waits and counts as late (with 300 contacts at half the saturated
 * rate this should not happen). Latency is measured from the send, as in the saturated run.
 */
export async function runPacedStepBench(options: PacedStepBenchOptions): Promise<PacedStepBenchResult> {
  const stepOptions: StepBenchOptions = {
    contacts: options.contacts,
    stepsPerContact: 0,
    workerProcesses: options.workerProcesses,
    maxSeconds: options.seconds,
    ...(options.gosacLatencyMs !== undefined ? { gosacLatencyMs: options.gosacLatencyMs } : {}),
    ...(options.env ? { env: options.env } : {}),
  };
  return withStepEnvironment(stepOptions, async ({ url, sink, processes }) => {
    const total = Math.max(1, Math.floor(options.ratePerSecond * options.seconds));
    const idle = Array.from({ length: options.contacts }, (_, index) => 950_000 + index);
    const stepOf = new Map<number, number>();
    let wakeIdle: (() => void) | undefined;
    const inFlight = new Set<Promise<void>>();
    const latencies: number[] = [];
    let lateArrivals = 0;
    let maxLagMs = 0;
    let failure: unknown;
    const rss = sampleRss(processes);
    const started = performance.now();
    const drainDeadline = started + (options.seconds + 30) * 1000;
    for (let sent = 0; sent < total; sent += 1) {
      const dueAt = started + (sent * 1000) / options.ratePerSecond;
      const wait = dueAt - performance.now();
      // Behind schedule: still yield a turn, so replies are read while arrivals catch up.
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      else await new Promise((resolve) => setImmediate(resolve));
      while (idle.length === 0 && !failure) {
        if (performance.now() > drainDeadline) throw new Error('paced run: no contact became idle in time');
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
        });
      }
      if (failure) break;
      const lag = performance.now() - dueAt;
      if (lag > 10) lateArrivals += 1;
      maxLagMs = Math.max(maxLagMs, lag);
      const contactId = idle.shift()!;
      const step = stepOf.get(contactId) ?? 0;
      stepOf.set(contactId, step + 1);
      const running: Promise<void> = oneStep(url, sink, contactId, step, 'P').then(
        (trace) => {
          latencies.push(trace.reply.at - trace.sentAt);
          inFlight.delete(running);
          idle.push(contactId);
          wakeIdle?.();
          wakeIdle = undefined;
        },
        (error: unknown) => {
          failure ??= error;
          inFlight.delete(running);
          wakeIdle?.();
          wakeIdle = undefined;
        },
      );
      inFlight.add(running);
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    const seconds = (performance.now() - started) / 1000;
    const maxRssBytes = rss.stop();
    latencies.sort((a, b) => a - b);
    return {
      steps: latencies.length,
      seconds,
      stepsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxRssBytes,
      lateArrivals,
      maxLagMs,
    };
  });
}

async function readCounts(options: StepBenchOptions, labels: string[]): Promise<QueryCounts | undefined> {
  if (!options.queryCountFile) return undefined;
  const sum: QueryCounts = { total: 0, app: 0, graphileWorker: 0, byKind: {} };
  for (const label of labels) {
    const text = await readFile(options.queryCountFile(label), 'utf8').catch(() => '');
    if (!text) continue;
    const counts = JSON.parse(text) as QueryCounts;
    sum.total += counts.total;
    sum.app += counts.app;
    sum.graphileWorker += counts.graphileWorker;
    for (const [kind, n] of Object.entries(counts.byKind)) sum.byKind[kind] = (sum.byKind[kind] ?? 0) + n;
  }
  return sum;
}

function perStep(before: QueryCounts, after: QueryCounts, steps: number) {
  const per = (a: number, b: number) => Math.round(((a - b) / steps) * 10) / 10;
  const byKind: Record<string, number> = {};
  for (const [kind, n] of Object.entries(after.byKind)) byKind[kind] = per(n, before.byKind[kind] ?? 0);
  return {
    total: per(after.total, before.total),
    app: per(after.app, before.app),
    graphileWorker: per(after.graphileWorker, before.graphileWorker),
    byKind,
  };
}

async function runContact(
  url: string,
  sink: GosacSink,
  contactId: number,
  steps: number,
  traces: StepTrace[],
  prefix: string,
  deadline = Number.POSITIVE_INFINITY,
): Promise<void> {
  let previous: StepTrace | undefined;
  for (let step = 0; step < steps && performance.now() < deadline; step += 1) {
    const trace: StepTrace = { ...(await oneStep(url, sink, contactId, step, prefix)), ...(previous ? { previousAnswerAt: previous.reply.at } : {}) };
    traces.push(trace);
    previous = trace;
  }
}

/** One step as the bench saw it (performance.now() times). */
interface StepTrace {
  readonly messageId: string;
  readonly sentAt: number;
  readonly reply: SinkMessage;
  /** When the sink answered this contact's previous reply (closed loop only). */
  readonly previousAnswerAt?: number;
}

const posters = new Map<string, ReturnType<typeof createJsonPoster>>();

/** One message of `contactId` through the webhook; resolves once its reply arrived. */
async function oneStep(url: string, sink: GosacSink, contactId: number, step: number, prefix: string): Promise<StepTrace> {
  let post = posters.get(url);
  if (!post) {
    post = createJsonPoster(url);
    posters.set(url, post);
  }
  const reply = sink.nextMessageFor(contactId);
  const sentAt = performance.now();
  const messageId = `${prefix}${contactId}S${step}`;
  const status = await post.post('/webhook', JSON.stringify(webhookBody(contactId, `resposta ${step}`, messageId)));
  if (status !== 200) throw new Error(`webhook answered ${status}`);
  return { messageId, sentAt, reply: await withTimeout(reply, 30_000, `no reply for contact ${contactId} step ${step}`) };
}

/** Each step's inbound row and the reply written for it, with the bench's timestamps (`StepPhases`). */
async function phasesOf(database: TestDatabase, traces: readonly StepTrace[]): Promise<StepPhases> {
  const result = await database.db.raw(
    `SELECT inbound.gosac_message_id AS id,
            extract(epoch FROM inbound.created_at) * 1000 AS stored,
            extract(epoch FROM reply.created_at) * 1000 AS stepped
       FROM message_history inbound
       CROSS JOIN LATERAL (
         SELECT created_at FROM message_history reply
          WHERE reply.contact_id = inbound.contact_id AND reply.direction = 'outbound' AND reply.id > inbound.id
          ORDER BY reply.id LIMIT 1) reply
      WHERE inbound.gosac_message_id = ANY(?)`,
    [traces.map((trace) => trace.messageId)],
  );
  const rows = new Map((result.rows as Array<{ id: string; stored: string; stepped: string }>).map((row) => [row.id, row]));
  // performance.now() on the wall clock, as PostgreSQL's timestamps are.
  const wall = (at: number) => performance.timeOrigin + at;
  const phases = { webhookToStored: [] as number[], storedToStepped: [] as number[], steppedToGosac: [] as number[], gosacAnswer: [] as number[], answerToNextWebhook: [] as number[] };
  for (const trace of traces) {
    const row = rows.get(trace.messageId);
    if (!row) throw new Error(`step ${trace.messageId}: no reply row, yet the sink had its reply`);
    phases.webhookToStored.push(Number(row.stored) - wall(trace.sentAt));
    phases.storedToStepped.push(Number(row.stepped) - Number(row.stored));
    phases.steppedToGosac.push(wall(trace.reply.arrivedAt) - Number(row.stepped));
    phases.gosacAnswer.push(trace.reply.at - trace.reply.arrivedAt);
    if (trace.previousAnswerAt !== undefined) phases.answerToNextWebhook.push(trace.sentAt - trace.previousAnswerAt);
  }
  const figures = (values: number[]): PhaseFigures => {
    const sorted = values.sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), mean: sorted.reduce((sum, value) => sum + value, 0) / Math.max(1, sorted.length) };
  };
  return {
    webhookToStored: figures(phases.webhookToStored),
    storedToStepped: figures(phases.storedToStepped),
    steppedToGosac: figures(phases.steppedToGosac),
    gosacAnswer: figures(phases.gosacAnswer),
    answerToNextWebhook: figures(phases.answerToNextWebhook),
  };
}

// Ten questions that each wait for a response: every step is answered by exactly one message
// (the last question is a menu and re-prompts), so steps and replies pair up one to one.
export async function createQuestionFlow(url: string): Promise<void> {
  const templateId = await adminPost(url, '/api/flow-templates', { name: 'Bench' });
  const flowId = await adminPost(url, '/api/flows', { template_id: templateId, name: 'Bench', is_default: true });
  const subflowId = await adminPost(url, '/api/subflows', { flow_id: flowId, name: 'Perguntas', trigger_keywords: ['menu'] });
  for (let index = 0; index < QUESTIONS; index += 1) {
    await adminPost(url, '/api/flow-messages', {
      subflow_id: subflowId,
      message_text: `Pergunta ${index + 1}, {{contact_name}}?`,
      order_index: index,
    });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
