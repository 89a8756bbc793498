// The database's own ceiling for one conversation step: `pgbench` (the PostgreSQL client on the
// PATH) runs the bare SQL of a step against a fresh migrated bench database, on the same server
// the service benchmarks use. One step here is what the design cannot do without:
//   1. the inbound message_history row, committed on its own (a webhook is answered only once its
//      message is stored);
//   2. one transaction: the user_conversations row's snapshot updated and the outbound
//      message_history row inserted (the step's outcome commits atomically).
// Three statements, two commits per step, each client on a conversation of its own (one row per
// client prepared before the run), no batching across clients: what the service's group commit
// and batched steps may beat. Not in it: marking the inbound row processed, the send, its outcome.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBenchDatabase } from './bench-environment.js';

export interface PgbenchOptions {
  clients: number;
  threads: number;
  seconds: number;
  /** pgbench's executable; `pgbench` on the PATH by default. */
  executable?: string;
}

export type PgbenchResult =
  | { ran: true; tps: number; latencyAvgMs: number | undefined; transactions: number | undefined }
  | { ran: false; reason: string };

// A snapshot of the size a question flow's persisted snapshot has (a few hundred bytes of JSON).
const SNAPSHOT = JSON.stringify({
  status: 'active',
  value: { Perguntas: 'message_1002' },
  context: { variables: { contact_name: 'Bench', resposta_1: 'resposta' }, subflowId: 1, messageId: 1002, attempts: 0 },
  historyValue: {},
  children: {},
});

export const PGBENCH_STEP_SCRIPT = `\\set contact :client_id + 1
INSERT INTO message_history (contact_id, ticket_id, direction, body, media_type, contact_name, contact_number, gosac_message_id, status, due_at)
  VALUES (:contact, :contact, 'inbound', 'resposta', 'text', 'Bench', '55' || :contact, 'pgbench-' || gen_random_uuid(), 'received', now());
BEGIN;
UPDATE user_conversations
   SET conversation_state = '${SNAPSHOT}'::jsonb, current_message_id = current_message_id + 1,
       last_activity_at = now(), updated_at = now()
 WHERE contact_id = :contact AND is_active;
INSERT INTO message_history (conversation_id, contact_id, ticket_id, contact_name, contact_number, body, flow_message_id, due_at, direction, media_type, status)
  SELECT id, contact_id, ticket_id, contact_name, contact_number, 'Pergunta 2, Bench?', 1002, now(), 'outbound', 'text', 'pending'
    FROM user_conversations WHERE contact_id = :contact AND is_active;
COMMIT;
`;

export async function runPgbench(options: PgbenchOptions): Promise<PgbenchResult> {
  const executable = options.executable ?? 'pgbench';
  const version = await run(executable, ['--version'], {}).catch((error: unknown) => error as Error);
  if (version instanceof Error) return { ran: false, reason: `${executable} not found (${version.message.split('\n')[0]})` };

  const database = await createBenchDatabase();
  const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-pgbench-'));
  try {
    await prepareConversations(database.db, options.clients);
    const script = path.join(folder, 'step.sql');
    await writeFile(script, PGBENCH_STEP_SCRIPT);
    const url = new URL(database.url);
    const env: Record<string, string> = url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {};
    const args = [
      '-n',
      '-c', String(options.clients),
      '-j', String(options.threads),
      '-T', String(options.seconds),
      '-f', script,
      '-h', url.hostname,
      '-p', url.port || '5432',
      '-U', decodeURIComponent(url.username) || 'postgres',
      decodeURIComponent(url.pathname.slice(1)),
    ];
    const output = await run(executable, args, env);
    const tps = /tps = ([\d.]+)/.exec(output);
    if (!tps) return { ran: false, reason: `no "tps = " in pgbench's output:\n${output}` };
    if (/aborted|failed transactions: [1-9]/.test(output)) return { ran: false, reason: `pgbench reported failures:\n${output}` };
    const latency = /latency average = ([\d.]+) ms/.exec(output);
    const transactions = /number of transactions actually processed: (\d+)/.exec(output);
    // The script really wrote: one outbound row per transaction.
    const written = await database.db('message_history').where({ direction: 'outbound' }).count({ n: '*' }).first();
    if (transactions && Number(written?.n ?? 0) !== Number(transactions[1])) {
      return { ran: false, reason: `pgbench counted ${transactions[1]} transactions but ${String(written?.n)} outbound rows exist` };
    }
    return {
      ran: true,
      tps: Number(tps[1]),
      latencyAvgMs: latency ? Number(latency[1]) : undefined,
      transactions: transactions ? Number(transactions[1]) : undefined,
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
    await database.drop();
  }
}

/** A template, flow and flow version, and one active conversation per pgbench client (contacts 1..n). */
async function prepareConversations(db: Awaited<ReturnType<typeof createBenchDatabase>>['db'], clients: number): Promise<void> {
  const [template] = await db('flow_templates').insert({ name: 'pgbench' }).returning<Array<{ id: number }>>('id');
  const [flow] = await db('flows')
    .insert({ template_id: template!.id, name: 'pgbench', is_default: false })
    .returning<Array<{ id: number }>>('id');
  const [version] = await db('flow_versions')
    .insert({ flow_id: flow!.id, content_hash: 'pgbench', definition: '{}', machine_config: '{}' })
    .returning<Array<{ id: number }>>('id');
  await db('user_conversations').insert(
    Array.from({ length: clients }, (_, index) => ({
      contact_id: index + 1,
      contact_name: 'Bench',
      contact_number: `55${index + 1}`,
      ticket_id: index + 1,
      flow_id: flow!.id,
      flow_version_id: version!.id,
      current_message_id: 1001,
      conversation_state: SNAPSHOT,
    })),
  );
}

function run(executable: string, args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(executable, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${executable} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(`${stdout}\n${stderr}`);
    });
  });
}
