// The service as a real separate process (`node --import tsx src/main.ts`), as the Procfile runs
// it: used by the multi-process tests and by the benchmarks, so the load generator and the test
// never share the service's event loop and ROLE=web / ROLE=worker run as they do in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PROCESS_ADMIN_TOKEN = 'process-admin-token-0123456789';

export interface ServiceProcess {
  /** Base URL (meaningful when the process has the web role). */
  readonly url: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resident set size now, from /proc/<pid>/status (undefined once the process is gone). */
  rssBytes(): number | undefined;
  /** SIGTERM, then wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
}

export interface ServiceProcessOptions {
  /** Extra arguments for node, before `--import tsx` (e.g. `--cpu-prof`, a plain .mjs preload). */
  readonly nodeArgs?: readonly string[];
  /** Where the child's stdout/stderr go; 'inherit' by default so failures are visible. */
  readonly stdio?: 'inherit' | 'ignore';
  readonly readyTimeoutMs?: number;
}

/**
 * Starts `src/main.ts` with `env` over sensible defaults (127.0.0.1, a free port, quiet logs, no
 * demo flow) and waits until `/health` answers when the process has the web role. A worker-only
 * process is returned once spawned; callers wait for its effects.
 */
/**
 * The V8 flags `npm start` gives the service (package.json; a test checks they agree). V8 lets
 * the old generation grow to up to 4 × what survived the last full GC when the service allocates
 * fast, and it does, per webhook and per step: ~60 MB of garbage kept under load. 1.5 × keeps the
 * service under 250 MB (bench/README.md) for no measurable CPU, with no ceiling a big flow could hit.
 */
export const SERVICE_NODE_FLAGS = ['--heap-growing-percent=50'] as const;

export async function startServiceProcess(
  env: Record<string, string>,
  options: ServiceProcessOptions = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...SERVICE_NODE_FLAGS, '--import', 'tsx', 'src/main.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_API_TOKEN: PROCESS_ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      DEMO_FLOW: 'false',
      ...env,
    },
    stdio: ['ignore', options.stdio ?? 'inherit', options.stdio ?? 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  if (env.ROLE !== 'worker') {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode} before it was healthy`);
      const ok = await fetch(`${url}/health`).then((response) => response.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error('service did not become healthy in time');
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const pid = child.pid ?? -1;
  return {
    url,
    child,
    pid,
    rssBytes: () => rssOf(pid),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** VmRSS of a process, in bytes; undefined when it is gone (or /proc is not there). */
export function rssOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
