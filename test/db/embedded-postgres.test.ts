// The embedded PostgreSQL (no DATABASE_URL) starts wherever the project is, root included; where
// it truly cannot, the service says why in one line within seconds instead of waiting for ever.
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import { fallbackDataDir, startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { projectRoot } from '../support/service-process.js';

describe('embedded PostgreSQL', function () {
  this.timeout(90_000);
  const folders: string[] = [];
  after(async () => {
    for (const folder of folders) await rm(folder, { recursive: true, force: true });
  });

  it('starts from a folder only its owner may enter (as root: data where the postgres user can reach it)', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-embedded-0700-'));
    folders.push(folder);
    await chmod(folder, 0o700);
    const asked = path.join(folder, 'data', 'pg');
    const root = process.getuid?.() === 0;
    const expected = root ? fallbackDataDir(asked) : asked;
    if (root) folders.push(path.dirname(expected));
    const database = await startEmbeddedPostgres({ dataDir: asked, databaseName: 'embedded_0700' });
    try {
      expect(database.dataDir).to.equal(expected);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const { rows } = await client.query("SELECT current_database() AS name, current_setting('server_encoding') AS encoding");
      await client.end();
      expect(rows).to.deep.equal([{ name: 'embedded_0700', encoding: 'UTF8' }]);
    } finally {
      await database.stop();
    }
  });

  it('npm start fails within seconds, in one line naming DATABASE_URL, when the server cannot run', async () => {
    // A data folder that looks initialised but is not: PostgreSQL exits at once.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-embedded-broken-'));
    folders.push(folder);
    await chmod(folder, 0o755);
    await mkdir(path.join(folder, 'pg'), { recursive: true });
    await writeFile(path.join(folder, 'pg', 'PG_VERSION'), '18\n');

    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATA_DIR: folder,
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_API_TOKEN: 'embedded-failure-test-token-0123',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`npm start still waiting after 30 s:\n${output}`));
      }, 30_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, output).to.equal(1);
    expect(Date.now() - started, 'seconds, not minutes').to.be.below(20_000);
    const lines = output.trim().split('\n');
    expect(lines, output).to.have.length(1);
    const record = JSON.parse(lines[0]!) as { level: number; msg: string };
    expect(record.level).to.equal(60);
    expect(record.msg).to.match(/^embedded PostgreSQL could not start: the server exited \(code \d+\): .+\. Set DATABASE_URL to /);
    expect(record.msg).to.not.include('\n');
  });
});
