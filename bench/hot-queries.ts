// `npx tsx bench/hot-queries.ts`: prints the EXPLAIN ANALYZE summary of every hot statement.
import { stopSharedTestResources } from '../test/setup/shared-resources.js';
import { runHotQueryBench } from './hot-queries.bench.js';

try {
  const report = await runHotQueryBench({ contacts: Number(process.env.BENCH_HOT_CONTACTS ?? 100_000) });
  console.log(`message_history rows: ${report.messageHistoryRows}`);
  console.log('| statement | plan | execution ms | sequential scans | indexes used |');
  console.log('|---|---|---|---|---|');
  const ms = (value: number | undefined) => (value === undefined ? 'plan only' : value.toFixed(2));
  for (const s of report.statements) {
    const label = `\`${s.label.replaceAll('|', '\\|')}\``;
    console.log(`| ${label} | for its values | ${ms(s.executionMs)} | ${s.seqScans.join(', ') || 'none'} | ${s.indexes.join(', ')} |`);
    console.log(`| 〃 | generic | ${ms(s.generic.executionMs)} | ${s.generic.seqScans.join(', ') || 'none'} | ${s.generic.indexes.join(', ')} |`);
  }
} finally {
  await stopSharedTestResources();
}
