// Preloaded into a service process by the profiling bench (`node --import ./bench/count-queries.mjs`):
// counts every statement sent through node-postgres (knex and graphile-worker both use it), split
// into graphile-worker's own and ours, and writes the totals to QUERY_COUNT_FILE every 200 ms and
// at exit, so the bench can divide the growth during its load by the steps it made.
import { writeFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.QUERY_COUNT_FILE;
if (file) {
  const counts = { total: 0, graphileWorker: 0, app: 0, byKind: {} };
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function countedQuery(config, ...rest) {
    const text = typeof config === 'string' ? config : (config?.text ?? '');
    counts.total += 1;
    if (text.includes('graphile_worker') && !text.includes('add_job')) counts.graphileWorker += 1;
    else counts.app += 1;
    const kind = text.trim().split(/\s+/, 1)[0]?.toUpperCase() ?? '?';
    counts.byKind[kind] = (counts.byKind[kind] ?? 0) + 1;
    return original.call(this, config, ...rest);
  };
  const flush = () => writeFileSync(file, JSON.stringify(counts));
  setInterval(flush, 200).unref();
  process.on('exit', flush);
}
