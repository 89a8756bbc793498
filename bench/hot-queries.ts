// `npx tsx bench/hot-queries.ts`: prints the EXPLAIN ANALYZE summary of every hot statement.
import { stopSharedTestResources } from '../test/setup/shared-resources.js';
import { runHotQueryBench } from './hot-queries.bench.js';

try {
  const report = await runHotQueryBench({ contacts: Number(process.env.BENCH_HOT_CONTACTS ?? 100_000) });
  console.log(`message_history rows: ${report.messageHistoryRows}`);
  console.log('| statement | execution ms | sequential scans | indexes used |');
  console.log('|---|---|---|---|');
  for (const s of report.statements) {
    console.log(`| \`${s.label.replaceAll('|', '\\|')}\` | ${s.executionMs === undefined ? 'plan only' : s.executionMs.toFixed(2)} | ${s.seqScans.join(', ') || 'none'} | ${s.indexes.join(', ')} |`);
  }
} finally {
  await stopSharedTestResources();
}
