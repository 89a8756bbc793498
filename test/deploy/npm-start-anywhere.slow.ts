// "A newcomer gets a running service wherever they clone it" (issue 8): the real `npm start`, with
// nothing configured (no DATABASE_URL: the embedded PostgreSQL), from a copy of the project in a
// folder only its owner may enter, once as root and once as a normal user. Each gets a reply to a
// webhook at a fake GOSAC. Every wait is bounded: this test fails, it never hangs.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { fallbackDataDir } from '../../src/db/embedded-postgres.js';
import { startFakeGosac, type FakeGosac } from '../support/fake-gosac.js';
import { freePort, projectRoot } from '../support/service-process.js';
import { textMessage } from '../support/webhook-payloads.js';

const NORMAL_USER = 'flowbot-tester';
const GREETING = 'Olá, Maria Souza! Bem-vindo(a) à Marcenaria Demonstração.';

interface OsUser {
  uid: number;
  gid: number;
}

/** The project's files as a clone has them (tracked and new, not ignored), copied into `folder`. */
async function copyProject(folder: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: projectRoot })
    .toString('utf8')
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    await cp(path.join(projectRoot, file), path.join(folder, file), { force: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error; // deleted but not yet committed
    });
  }
}

/**
 * node_modules as `npm install` leaves it, but without the download: hard links to this project's
 * files (same disk), else a full copy. A symlink would not do for root: the binaries would stay
 * reachable through the original path and the case under test would not arise.
 */
async function installedModules(folder: string): Promise<void> {
  const target = path.join(folder, 'node_modules');
  const linked = spawnSync('cp', ['-al', path.join(projectRoot, 'node_modules'), target], { stdio: 'ignore', timeout: 120_000 });
  if (linked.status !== 0) {
    await rm(target, { recursive: true, force: true });
    await cp(path.join(projectRoot, 'node_modules'), target, { recursive: true, verbatimSymlinks: true });
  }
}

function ensureNormalUser(): OsUser {
  const lookUp = () => {
    const uid = spawnSync('id', ['-u', NORMAL_USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', NORMAL_USER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const existing = lookUp();
  if (existing) return existing;
  const created = spawnSync('useradd', ['--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', NORMAL_USER], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  const user = lookUp();
  if (!user) throw new Error(`could not create the user ${NORMAL_USER}: ${created.stderr || created.error}`);
  return user;
}

interface Started {
  readonly child: ChildProcess;
  readonly url: string;
  readonly output: string[];
  /** Ctrl-C; resolves once npm exited and says whether the service itself stopped cleanly. */
  stop(): Promise<boolean>;
}

/** `npm start` in `folder`, as `user` when given, with no DATABASE_URL; resolves once it listens. */
async function npmStart(folder: string, gosac: FakeGosac, user?: OsUser): Promise<Started> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: user ? folder : (process.env.HOME ?? '/root'),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    GOSAC_BASE_URL: gosac.url,
    GOSAC_AUTHORIZATION_KEY: 'INTEGRATION start-test',
    npm_config_cache: path.join(folder, '.npm-cache'),
    npm_config_update_notifier: 'false',
  };
  const child = spawn('npm', ['start'], {
    cwd: folder,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the whole tree can be stopped if something goes wrong.
    detached: true,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  const output: string[] = [];
  let listening = false;
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      if (/"msg":"listening"/.test(line)) listening = true;
    }
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killTree = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // Ctrl-C in a terminal: the whole foreground group gets SIGINT (npm then exits by it too).
      process.kill(-child.pid!, 'SIGINT');
      const timer = setTimeout(killTree, 30_000);
      await exited;
      clearTimeout(timer);
    }
    return output.some((line) => /"msg":"stopped"/.test(line));
  };

  const deadline = Date.now() + 150_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output.join('\n')}`);
    const healthy = listening && (await fetch(`http://127.0.0.1:${port}/health`).then((response) => response.ok, () => false));
    if (healthy) break;
    if (Date.now() > deadline) {
      killTree();
      throw new Error(`npm start did not listen within 150 s:\n${output.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, url: `http://127.0.0.1:${port}`, output, stop };
}

/** A webhook in, the demo flow's greeting out at the fake GOSAC; the conversation in the admin API. */
async function converses(started: Started, folder: string, gosac: FakeGosac, contactId: number): Promise<void> {
  const ticketId = contactId + 100_000;
  const response = await fetch(`${started.url}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(textMessage({ contactId, ticketId }, 'Oi')),
  });
  expect(response.status).to.equal(200);
  const [greeting] = await gosac.waitForMessages(`/messages/${ticketId}`, 2, 30_000);
  expect(greeting!.body).to.deep.equal({ body: GREETING });

  const token = (await readFile(path.join(folder, '.data', 'admin-token'), 'utf8')).trim();
  const list = await fetch(`${started.url}/api/conversations?contact_id=${contactId}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(list.status).to.equal(200);
  expect(await list.json()).to.have.length(1);
}

describe('npm start from a fresh copy, nothing configured', function () {
  this.timeout(300_000);
  let gosac: FakeGosac;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    gosac = await startFakeGosac();
  });
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
  });
  after(async () => {
    await gosac?.stop();
  });

  it('works as root from a folder only root may enter (mode 0700)', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs as root (as CI does): run npm run test:slow as root');
    const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-root-start-'));
    await chmod(folder, 0o700);
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    // As root the data cannot stay in the 0700 folder (PostgreSQL runs as `postgres`).
    const dataDir = fallbackDataDir(path.join(folder, '.data', 'pg'));
    cleanups.push(() => rm(path.dirname(dataDir), { recursive: true, force: true }));
    await copyProject(folder);
    await installedModules(folder);

    const started = await npmStart(folder, gosac);
    cleanups.push(async () => void (await started.stop()));
    await converses(started, folder, gosac, 94_001);
    expect(started.output.join('\n')).to.include(`"dataDir":"${dataDir}"`);
    expect(await started.stop(), 'the service logged "stopped"').to.equal(true);

    // A second start finds its data again (the flow and the conversation are still there).
    const again = await npmStart(folder, gosac);
    cleanups.push(async () => void (await again.stop()));
    expect(again.output.join('\n')).to.not.include('created the demo flow');
    expect(await again.stop(), 'the service logged "stopped"').to.equal(true);

    // The tests run there too (their embedded server used to wait for ever as root): one suite
    // that needs the database, bounded.
    const suite = spawnSync('npm', ['run', 'test:one', '--', 'test/flows/demo-flow.test.ts'], {
      cwd: folder,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_update_notifier: 'false' },
      encoding: 'utf8',
      timeout: 120_000,
      killSignal: 'SIGKILL',
    });
    expect(suite.status, `${suite.stdout}\n${suite.stderr}`).to.equal(0);
    expect(suite.stdout).to.match(/\d+ passing/);
  });

  it('works as a normal user from a folder only that user may enter', async () => {
    const user = process.getuid?.() === 0 ? ensureNormalUser() : undefined;
    const folder = await mkdtemp(path.join(os.tmpdir(), 'flowbot-user-start-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    await copyProject(folder);
    // The user's own node_modules would be an `npm install` away; the shared one is readable by all.
    await symlink(path.join(projectRoot, 'node_modules'), path.join(folder, 'node_modules'));
    if (user) {
      await mkdir(path.join(folder, '.npm-cache'), { recursive: true });
      const owned = spawnSync('chown', ['-R', '--no-dereference', `${user.uid}:${user.gid}`, folder], { timeout: 60_000 });
      expect(owned.status).to.equal(0);
      await chown(folder, user.uid, user.gid);
    }
    await chmod(folder, 0o700);

    const started = await npmStart(folder, gosac, user);
    cleanups.push(async () => void (await started.stop()));
    await converses(started, folder, gosac, 94_002);
    // The data stays in the project's own folder.
    expect(started.output.join('\n')).to.include(`"dataDir":"${path.join(folder, '.data', 'pg')}"`);
    expect(await started.stop(), 'the service logged "stopped"').to.equal(true);
  });
});
