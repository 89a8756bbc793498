// Webhook intake: many concurrent clients posting distinct messages (distinct contacts and ids)
// to POST /webhook, measured at the client. Two shapes:
// - role 'web': a ROLE=web process, so the figure is intake alone (validate, settings, group
//   commit: one statement stores the rows and queues the work of all the webhooks waiting for it);
//   the worker role is off and queued work waits;
// - role 'both': one ROLE=both process with a question flow, DEBOUNCE_TIME=0 and a GOSAC sink, so
//   the worker steps the contacts and sends their replies while the webhooks arrive, on the same
//   cores; the result says how many steps the worker finished by the end of the measured window.
// The service logs at warn (as every bench process); BENCH_INTAKE_LOG_LEVEL=info measures the
// production default.
import { readFileSync } from 'node:fs';
import {
  createBenchDatabase,
  createJsonPoster,
  percentile,
  sampleRss,
  startGosacSink,
  startServiceProcess,
  webhookBody,
  type GosacSink,
} from './bench-environment.js';
import { createQuestionFlow } from './conversation-step.bench.js';

export interface IntakeBenchOptions {
  requests: number;
  concurrency: number;
  /** Hard stop, whatever is left. */
  maxSeconds: number;
  nodeArgs?: readonly string[];
  env?: Record<string, string>;
  /** 'web' (default): intake alone; 'both': the worker steps what arrives. */
  role?: 'web' | 'both';
}

export interface IntakeBenchResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxRssBytes: number;
  queued: number;
  /** CPU time (user + system) of the service process per webhook in the measured loop. */
  serviceCpuMsPerWebhook: number;
  /** role 'both': inbound rows the worker processed, and replies the sink got, during the measured window. */
  processedDuringRun?: number;
  repliesDuringRun?: number;
}

/** utime + stime of a process in ms, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export async function runWebhookIntakeBench(options: IntakeBenchOptions): Promise<IntakeBenchResult> {
  const role = options.role ?? 'web';
  const database = await createBenchDatabase();
  let sink: GosacSink | undefined;
  if (role === 'both') sink = await startGosacSink({ record: false });
  const web = await startServiceProcess(
    {
      DATABASE_URL: database.url,
      ROLE: role,
      ...(sink
        ? { DEBOUNCE_TIME: '0', MESSAGE_COOLDOWN: '0', GOSAC_BASE_URL: sink.url, GOSAC_AUTHORIZATION_KEY: 'INTEGRATION bench' }
        : { DEBOUNCE_TIME: '2000' }),
      ...(process.env.BENCH_INTAKE_LOG_LEVEL ? { LOG_LEVEL: process.env.BENCH_INTAKE_LOG_LEVEL } : {}),
      ...options.env,
    },
    { nodeArgs: options.nodeArgs ?? [] },
  );
  const poster = createJsonPoster(web.url, options.concurrency);
  const post = (payload: string) => poster.post('/webhook', payload);

  try {
    if (role === 'both') await createQuestionFlow(web.url);
    // Warm-up: JIT, pools and prepared plans, not measured.
    let sequence = 0;
    const one = async () => {
      sequence += 1;
      const contactId = 100_000 + (sequence % 5_000);
      const status = await post(JSON.stringify(webhookBody(contactId, `mensagem ${sequence}`, `I${sequence}`)));
      if (status !== 200) throw new Error(`webhook answered ${status}`);
    };
    await Promise.all(Array.from({ length: options.concurrency }, async () => {
      for (let i = 0; i < 20; i += 1) await one();
    }));

    const processedCount = async () =>
      role === 'both'
        ? Number((await database.db('message_history').where({ direction: 'inbound', status: 'processed' }).count({ n: '*' }).first())?.n ?? 0)
        : 0;
    const processedBefore = await processedCount();
    const repliesBefore = sink?.received ?? 0;
    const rss = sampleRss({ web });
    const latencies: number[] = [];
    const deadline = performance.now() + options.maxSeconds * 1000;
    let remaining = options.requests;
    const started = performance.now();
    const cpuBefore = cpuMs(web.pid);
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (remaining > 0 && performance.now() < deadline) {
          remaining -= 1;
          const sentAt = performance.now();
          await one();
          latencies.push(performance.now() - sentAt);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const serviceCpuMs = cpuMs(web.pid) - cpuBefore;
    const maxRss = rss.stop();
    const repliesDuringRun = sink ? sink.received - repliesBefore : undefined;
    const processedDuringRun = (await processedCount()) - processedBefore;
    const counted = await database.db('message_history').where({ direction: 'inbound' }).count({ n: '*' }).first();
    latencies.sort((a, b) => a - b);
    return {
      requests: latencies.length,
      seconds,
      requestsPerSecond: latencies.length / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxRssBytes: maxRss.web ?? 0,
      queued: Number(counted?.n ?? 0),
      serviceCpuMsPerWebhook: serviceCpuMs / latencies.length,
      ...(role === 'both' ? { processedDuringRun } : {}),
      ...(repliesDuringRun !== undefined ? { repliesDuringRun } : {}),
    };
  } finally {
    poster.close();
    await web.stop();
    await sink?.close();
    await database.drop();
  }
}
