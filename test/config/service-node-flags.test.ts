import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { projectRoot, SERVICE_NODE_FLAGS } from '../support/service-process.js';

// The tests and benchmarks start the service as `npm start` does (the Procfile runs it): the
// memory figures in bench/README.md hold only if both pass node the same flags.
describe('the flags node gets for the service', () => {
  it('are the same for npm start and for the processes the tests and benchmarks start', async () => {
    const manifest = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const start = manifest.scripts['start']!.split(/\s+/);
    for (const flag of SERVICE_NODE_FLAGS) expect(start, 'package.json scripts.start').to.include(flag);
    expect(start.filter((word) => word.startsWith('--') && !word.startsWith('--env-file'))).to.deep.equal([...SERVICE_NODE_FLAGS]);
  });
});
