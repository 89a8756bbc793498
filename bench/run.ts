// `npm run bench`: runs every benchmark once and prints one table.
import os from 'node:os';
import { runConversationStepBench } from './conversation-step.bench.js';

const contacts = Number(process.env.BENCH_CONTACTS ?? 100);
const stepsPerContact = Number(process.env.BENCH_STEPS ?? 10);

const rows: string[] = [];
const step = await runConversationStepBench({ contacts, stepsPerContact, workerProcesses: 0 });
rows.push(
  `| conversation step, 1 process (web+worker) | ${step.steps} steps, ${contacts} contacts | ${step.stepsPerSecond.toFixed(0)} steps/s | ${step.p50Ms.toFixed(1)} | ${step.p99Ms.toFixed(1)} |`,
);

console.log(`\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}, database: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'}\n`);
console.log('| benchmark | load | throughput | p50 ms | p99 ms |');
console.log('|---|---|---|---|---|');
for (const row of rows) console.log(row);
