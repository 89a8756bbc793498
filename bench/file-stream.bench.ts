// SPEC §8: a received file is never held whole in memory. A 200 MB file streams from a fake GOSAC
// media URL into FILES_DIR, then to Pontta (multipart attach) and to Google Drive (multipart
// upload) through the real clients, while this process's RSS is sampled every 20 ms. The servers
// here discard what they receive (counting bytes), so the figure is the clients' own.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { createFileDownloader } from '../src/files/file-downloader.js';
import { createDiskFileStorage } from '../src/files/file-storage.js';
import { createGoogleClient } from '../src/integrations/google-client.js';
import { createPonttaClient } from '../src/integrations/pontta-client.js';
import { createDatabase } from '../src/db/knex.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { createLogger } from '../src/shared/logger.js';
import { createTestDatabase } from '../test/support/test-database.js';

export interface FileStreamBenchResult {
  fileMb: number;
  rssBeforeMb: number;
  /** bytesReceived: what reached the server (for the download, what was stored). */
  phases: Array<{ phase: string; seconds: number; maxRssMb: number; bytesReceived: number }>;
  maxRssBytes: number;
}

const MB = 1024 * 1024;

/** A server that answers what the clients ask and throws every body away, counting its bytes. */
async function startSink(fileBytes: number): Promise<{ url: string; received: () => number; server: Server }> {
  let received = 0;
  const chunk = randomBytes(64 * 1024);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://sink');
    if (request.method === 'GET' && url.pathname === '/media/big.pdf') {
      response.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(fileBytes) });
      let left = fileBytes;
      const pump = () => {
        while (left > 0) {
          const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= piece.length;
          if (!response.write(piece)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
      return;
    }
    request.on('data', (data: Buffer) => {
      if (!url.pathname.includes('auth') && url.pathname !== '/token') received += data.length;
    });
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      if (url.pathname === '/api/authenticate') return void response.end(JSON.stringify({ id_token: 'bench-token' }));
      if (url.pathname === '/token') return void response.end(JSON.stringify({ access_token: 'bench', expires_in: 3600, token_type: 'Bearer' }));
      if (url.pathname === '/drive/v3/files' || url.pathname === '/upload/drive/v3/files') return void response.end(JSON.stringify({ id: 'bench-id' }));
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received: () => received, server };
}

async function sampled<T>(body: () => Promise<T>): Promise<{ value: T; maxRss: number; seconds: number }> {
  let maxRss = process.memoryUsage.rss();
  const timer = setInterval(() => {
    maxRss = Math.max(maxRss, process.memoryUsage.rss());
  }, 20);
  const started = Date.now();
  try {
    const value = await body();
    maxRss = Math.max(maxRss, process.memoryUsage.rss());
    return { value, maxRss, seconds: (Date.now() - started) / 1000 };
  } finally {
    clearInterval(timer);
  }
}

export async function runFileStreamBench(options: { fileMb?: number } = {}): Promise<FileStreamBenchResult> {
  const fileMb = options.fileMb ?? 200;
  const fileBytes = fileMb * MB;
  const logger = createLogger('silent');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowbot-bench-files-'));
  const testDb = await createTestDatabase();
  const db = createDatabase(testDb.url, 4, logger);
  const sink = await startSink(fileBytes);
  try {
    await migrateDatabase(db, testDb.url);
    const storage = createDiskFileStorage(dir);
    const downloader = createFileDownloader({ storage, maxBytes: fileBytes + 1, timeoutMs: 600_000, gosac: { authorizationKey: 'INTEGRATION bench', integration: undefined } });
    const pontta = createPonttaClient({
      db,
      logger,
      options: { authUrl: `${sink.url}/api/authenticate`, baseUrl: `${sink.url}/api`, businessUnit: 'bench', email: 'bench@example.test', password: 'bench', timeoutMs: 600_000 },
    });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const google = createGoogleClient({
      db,
      logger,
      options: {
        clientEmail: 'bench@example.test',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        tokenUri: `${sink.url}/token`,
        apiRootUrl: sink.url,
        sheetId: undefined,
        driveFolderId: 'root',
        timeoutMs: 600_000,
      },
    });
    const file = { path: storage.pathOf('1/1-big.pdf'), name: 'big.pdf', mimeType: 'application/pdf' };
    // Warm up the clients (modules, connections, the Pontta token) on small calls first.
    await pontta.createOccurrence({ title: 'warm-up', note: '' }).catch(() => undefined);
    global.gc?.();
    const rssBefore = process.memoryUsage.rss();
    const phases: FileStreamBenchResult['phases'] = [];
    const phase = async (name: string, body: () => Promise<unknown>, moved?: (value: unknown) => number) => {
      const before = sink.received();
      const run = await sampled(body);
      phases.push({ phase: name, seconds: run.seconds, maxRssMb: run.maxRss / MB, bytesReceived: moved ? moved(run.value) : sink.received() - before });
    };
    await phase('download from GOSAC into FILES_DIR', () => downloader.download(`${sink.url}/media/big.pdf`, '1/1-big.pdf'), (value) => (value as { size: number }).size);
    await phase('Pontta multipart attach', () => pontta.attachFile('1', file));
    await phase('Drive multipart upload', () => google.uploadFile('folder', file));
    return {
      fileMb,
      rssBeforeMb: rssBefore / MB,
      phases,
      maxRssBytes: Math.max(...phases.map((p) => p.maxRssMb * MB)),
    };
  } finally {
    await new Promise<void>((resolve) => sink.server.close(() => resolve()));
    await db.destroy();
    await testDb.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

export const RESULT_PREFIX = 'file-stream result: ';

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runFileStreamBench({ fileMb: Number(process.env.BENCH_FILE_MB ?? 200) });
  // One line: `npm run bench` runs this file in a process of its own and reads it back.
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  const { stopSharedTestResources } = await import('../test/setup/shared-resources.js');
  await stopSharedTestResources();
}
