// A stand-in for GOSAC's HTTP API on 127.0.0.1: records every request (headers, parsed body,
// arrival time) and can be told to fail or to answer slowly.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path with query, e.g. `/messages/123`. */
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body (raw text when it is not JSON). */
  readonly body: any;
  readonly rawBody: string;
  /** Date.now() when the request arrived. */
  readonly receivedAt: number;
  /** The status the fake answered with. */
  readonly status: number;
}

export interface FailureOptions {
  /** Drop the connection instead of answering (after the request arrived in full). */
  readonly reset?: boolean;
  /** Sent as the Retry-After header. */
  readonly retryAfter?: string;
  readonly body?: string;
  /** Answer only after this long (a caller with a shorter timeout has given up by then). */
  readonly delayMs?: number;
}

export interface FakeGosac {
  readonly url: string;
  /** Every request, in arrival order, failed ones included. */
  readonly requests: readonly RecordedRequest[];
  /** Requests to `path` that were accepted (2xx): what the contact actually received. */
  requestsTo(path: string): RecordedRequest[];
  /** Every request to `path`, failed ones included. */
  attemptsTo(path: string): RecordedRequest[];
  /**
   * Requests to `path` counted when they arrive (before any delayed or dropped answer), with the
   * status they will get (0: the connection is dropped).
   */
  arrivalsTo(path: string): RecordedRequest[];
  /** Requests received and not yet answered. */
  readonly concurrent: number;
  /** The most requests (to any path, or to `path`) open at once since the last reset. */
  maxConcurrent(path?: string): number;
  /** Resolves once `count` requests to `path` were accepted; rejects after `timeoutMs`. */
  waitForMessages(path: string, count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** The next `times` requests are answered with `status`. */
  failNext(times: number, status: number, options?: FailureOptions): void;
  /** Every answer waits this long first (0 to stop). */
  delayResponses(ms: number): void;
  /**
   * The next request is recorded as accepted at once (GOSAC acted on it) but its answer is held
   * until `releaseHeld()`; resolves when that request arrives. Models "GOSAC answered, we died
   * before recording it".
   */
  holdNext(): Promise<RecordedRequest>;
  releaseHeld(): void;
  /**
   * GETs of `path` answer this file (SPEC §4 media URLs): `body` as given, or `size` bytes made as
   * they are sent (nothing held in memory). `mediaRequests` records each GET's headers.
   */
  serveMedia(path: string, media: MediaFile): string;
  readonly mediaRequests: ReadonlyArray<{ path: string; headers: IncomingHttpHeaders }>;
  reset(): void;
  stop(): Promise<void>;
}

export interface MediaFile {
  readonly body?: Buffer;
  readonly size?: number;
  readonly contentType: string;
  /** false: no Content-Length (chunked), so only counting the bytes finds the size. */
  readonly announceLength?: boolean;
}

function serveMediaFile(response: import('node:http').ServerResponse, media: MediaFile): void {
  const size = media.body?.length ?? media.size ?? 0;
  const headers: Record<string, string> = { 'content-type': media.contentType };
  if (media.announceLength !== false) headers['content-length'] = String(size);
  response.writeHead(200, headers);
  if (media.body) {
    response.end(media.body);
    return;
  }
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let left = size;
  const pump = () => {
    while (left > 0) {
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      if (!response.write(piece)) {
        response.once('drain', pump);
        return;
      }
    }
    response.end();
  };
  response.on('error', () => {});
  pump();
}

export async function startFakeGosac(options: { port?: number } = {}): Promise<FakeGosac> {
  const media = new Map<string, MediaFile>();
  const mediaRequests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  const requests: RecordedRequest[] = [];
  const arrivals: RecordedRequest[] = [];
  const open = new Map<string, number>();
  const maxOpen = new Map<string, number>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const opened = (path: string) => {
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    const count = (open.get(path) ?? 0) + 1;
    open.set(path, count);
    maxOpen.set(path, Math.max(maxOpen.get(path) ?? 0, count));
  };
  const closed = (path: string) => {
    concurrent -= 1;
    open.set(path, (open.get(path) ?? 1) - 1);
  };
  const failures: Array<{ status: number } & FailureOptions> = [];
  const waiters = new Set<() => void>();
  let delayMs = 0;
  let hold: ((request: RecordedRequest) => void) | undefined;
  const held: Array<() => void> = [];

  const server: Server = createServer((request, response) => {
    const mediaPath = (request.url ?? '').split('?')[0] ?? '';
    const file = request.method === 'GET' ? media.get(mediaPath) : undefined;
    if (file) {
      mediaRequests.push({ path: mediaPath, headers: request.headers });
      serveMediaFile(response, file);
      return;
    }
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown = rawBody;
      try {
        body = JSON.parse(rawBody);
      } catch {
        // not JSON: keep the text
      }
      const path = request.url ?? '';
      if (hold) {
        arrivals.push({ method: request.method ?? '', path, headers: request.headers, body, rawBody, receivedAt, status: 200 });
        const recorded: RecordedRequest = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body,
          rawBody,
          receivedAt,
          status: 200,
        };
        requests.push(recorded);
        for (const wake of waiters) wake();
        const arrived = hold;
        hold = undefined;
        held.push(() => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"ok":true}');
        });
        arrived(recorded);
        return;
      }
      const failure = failures.shift();
      const status = failure?.reset ? 0 : (failure?.status ?? 200);
      arrivals.push({ method: request.method ?? '', path, headers: request.headers, body, rawBody, receivedAt, status });
      opened(path);
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        closed(path);
      };
      // A client that gives up (timeout, abort) closes the connection: the request is no longer open.
      response.on('close', answer);
      if (failure?.reset) {
        answer();
        request.socket.destroy();
        return;
      }
      const respond = () => {
        answer();
        requests.push({
          method: request.method ?? '',
          path: request.url ?? '',
          headers: request.headers,
          body,
          rawBody,
          receivedAt,
          status,
        });
        for (const wake of waiters) wake();
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (failure?.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
        response.writeHead(status, headers);
        response.end(failure?.body ?? JSON.stringify(failure ? { error: 'fake failure' } : { ok: true }));
      };
      const wait = failure?.delayMs ?? delayMs;
      if (wait > 0) setTimeout(respond, wait);
      else respond();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const attemptsTo = (path: string) => requests.filter((request) => request.path === path);
  const arrivalsTo = (path: string) => arrivals.filter((request) => request.path === path);
  const requestsTo = (path: string) => attemptsTo(path).filter((request) => request.status < 300);

  return {
    url,
    requests,
    requestsTo,
    attemptsTo,
    arrivalsTo,
    get concurrent() {
      return concurrent;
    },
    maxConcurrent(path) {
      return path === undefined ? maxConcurrent : (maxOpen.get(path) ?? 0);
    },
    waitForMessages(path, count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const accepted = requestsTo(path);
          if (accepted.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(accepted);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const got = requestsTo(path).map((request) => JSON.stringify(request.body));
          reject(new Error(`expected ${count} messages to ${path} within ${timeoutMs} ms; got ${got.length}: ${got.join(', ')}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    failNext(times, status, options = {}) {
      for (let index = 0; index < times; index += 1) failures.push({ status, ...options });
    },
    delayResponses(ms) {
      delayMs = ms;
    },
    holdNext() {
      return new Promise((resolve) => {
        hold = resolve;
      });
    },
    releaseHeld() {
      for (const release of held.splice(0)) release();
    },
    serveMedia(path, file) {
      media.set(path, file);
      return `${url}${path}`;
    },
    mediaRequests,
    reset() {
      requests.length = 0;
      arrivals.length = 0;
      maxOpen.clear();
      for (const [path, count] of open) maxOpen.set(path, count);
      maxConcurrent = concurrent;
      failures.length = 0;
      delayMs = 0;
    },
    stop() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
