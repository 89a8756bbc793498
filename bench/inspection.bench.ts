// Live inspection's cost (SPEC §9): steps/s with 10 WebSocket viewers following every conversation
// against none (target: < 10 % fewer), and the /inspect page's weight and first render time in
// headless chromium. The viewers run in a child process of their own and read every frame.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { launchChromium } from '../test/support/browser.js';
import { projectRoot } from '../test/support/service-process.js';
import { BENCH_ADMIN_TOKEN, createBenchDatabase, startGosacSink, startServiceProcess, webhookBody } from './bench-environment.js';
import { createQuestionFlow, runConversationStepBench, type StepBenchResult } from './conversation-step.bench.js';

export interface InspectionBenchOptions {
  contacts: number;
  stepsPerContact: number;
  viewers: number;
  maxSeconds: number;
}

export interface InspectionBenchResult {
  unwatched: StepBenchResult;
  watched: StepBenchResult;
  /** watched / unwatched steps/s */
  ratio: number;
  /** watched / unwatched CPU time of the service per step (undefined without /proc) */
  cpuRatio: number | undefined;
  /** Frames the viewers received during the watched run (all viewers together). */
  frames: number;
  /** The watched run's processes. */
  maxRssBytes: Record<string, number>;
}

/**
 * Opens `count` viewers of every conversation in a child process (bench/inspect-viewers.mjs); the
 * stopper closes them and reports how many frames they got and how many the service dropped.
 */
export function viewersOf(count: number) {
  return async (url: string) => {
    const wsUrl = `${url.replace('http', 'ws')}/inspect/ws?token=${BENCH_ADMIN_TOKEN}`;
    const child = spawn(process.execPath, [path.join(projectRoot, 'bench', 'inspect-viewers.mjs'), wsUrl, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async () => {
      const line = await lines.next();
      if (line.done) throw new Error('the viewers process ended early');
      return JSON.parse(line.value) as { ready?: boolean; frames?: number; dropped?: number };
    };
    await next();
    // Publishers recheck who watches at least every second.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    return async () => {
      child.kill('SIGTERM');
      const report = await next();
      return { frames: report.frames ?? 0, dropped: report.dropped ?? 0 };
    };
  };
}

/** One unwatched and one watched run, the same load each. */
export async function runInspectionBench(options: InspectionBenchOptions): Promise<InspectionBenchResult> {
  const base = { contacts: options.contacts, stepsPerContact: options.stepsPerContact, workerProcesses: 0, maxSeconds: options.maxSeconds };
  const unwatched = await runConversationStepBench(base);
  const watched = await runConversationStepBench({ ...base, during: viewersOf(options.viewers) });
  const frames = watched.during?.frames ?? 0;
  if (frames === 0) throw new Error('the viewers received no frame: inspection was not measured');
  const cpuRatio = unwatched.cpuMsPerStep && watched.cpuMsPerStep ? watched.cpuMsPerStep / unwatched.cpuMsPerStep : undefined;
  return { unwatched, watched, ratio: watched.stepsPerSecond / unwatched.stepsPerSecond, cpuRatio, frames, maxRssBytes: watched.maxRssBytes };
}

export interface PageBenchResult {
  /** /inspect, its own assets and elk.bundled.js, as sent (no compression). */
  bytes: number;
  /** Navigation start → the conversation list shown. */
  listMs: number;
  /** Click on a conversation → its machine drawn with the current state marked. */
  drawMs: number;
  /** Navigation start → machine drawn, clicks included: the page's first useful render. */
  firstRenderMs: number;
}

/** The page against a service with one live conversation on the bench's ten-question flow. */
export async function runPageBench(): Promise<PageBenchResult> {
  // First, so that a missing browser leaves no service process behind.
  const browser = await launchChromium();
  const database = await createBenchDatabase();
  const sink = await startGosacSink();
  const service = await startServiceProcess({
    DATABASE_URL: database.url,
    GOSAC_BASE_URL: sink.url,
    GOSAC_AUTHORIZATION_KEY: 'INTEGRATION bench',
    DEBOUNCE_TIME: '0',
    MESSAGE_COOLDOWN: '0',
  }).catch(async (error: unknown) => {
    await Promise.allSettled([browser.close(), sink.close(), database.drop()]);
    throw error;
  });
  try {
    await createQuestionFlow(service.url);
    const reply = sink.nextMessageFor(700_001);
    await fetch(`${service.url}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(webhookBody(700_001, 'oi', 'PAGE1')) });
    await reply;
    let bytes = 0;
    for (const path of ['/inspect', '/inspect/assets/inspect.js', '/inspect/assets/inspect.css', '/inspect/assets/elk.bundled.js']) {
      bytes += (await (await fetch(`${service.url}${path}`)).arrayBuffer()).byteLength;
    }
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const started = performance.now();
    await page.goto(`${service.url}/inspect?token=${BENCH_ADMIN_TOKEN}`);
    await page.waitForSelector('button[data-conversation-id]');
    const listed = performance.now();
    await page.click('button[data-conversation-id]');
    await page.waitForSelector('[aria-current="step"]');
    const drawn = performance.now();
    return { bytes, listMs: listed - started, drawMs: drawn - listed, firstRenderMs: drawn - started };
  } finally {
    await browser.close();
    await service.stop();
    await sink.close();
    await database.drop();
  }
}
