import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { logTransportFor } from '../../src/shared/logger.js';

const run = promisify(execFile);

describe('logger: readable in a terminal, JSON otherwise', () => {
  it('chooses pino-pretty for a terminal and plain JSON for anything else', () => {
    expect(logTransportFor({ isTTY: true })).to.deep.include({ target: 'pino-pretty' });
    expect(logTransportFor({ isTTY: false })).to.equal(undefined);
    // A pipe or file: process.stdout.isTTY is undefined there.
    expect(logTransportFor({})).to.equal(undefined);
  });

  it('really prints readable lines through the transport (and JSON without it), secrets redacted', async function () {
    this.timeout(20_000);
    const script = (tty: boolean) => `
      import { createLogger } from '${new URL('../../src/shared/logger.ts', import.meta.url).href}';
      const logger = createLogger('info', 'flow-bot', { output: { isTTY: ${tty} } });
      logger.info({ port: 8000, token: 'secret-token' }, 'listening');`;
    const output = async (tty: boolean) =>
      (await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(tty)], { env: { ...process.env, NO_COLOR: '1' } })).stdout;
    const pretty = await output(true);
    expect(pretty).to.match(/INFO.*\(flow-bot\): .*listening/);
    expect(pretty).to.match(/port.*8000/);
    expect(pretty).not.to.include('secret-token');
    expect(() => JSON.parse(pretty)).to.throw();
    const json = JSON.parse(await output(false));
    expect(json).to.include({ level: 30, msg: 'listening', port: 8000, name: 'flow-bot', token: '[redacted]' });
  });
});
