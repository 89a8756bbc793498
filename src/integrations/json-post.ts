import http from 'node:http';
import https from 'node:https';

// The reply hot path: one POST per reply to GOSAC, hundreds in flight. got costs ~330 µs of CPU
// per call on this path, four times the call itself over node:http (bench/gosac-client.bench.ts),
// so GOSAC's sends use this instead; every other integration keeps got (ADR 0010).

export interface JsonPostAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The answer's first `maxBodyBytes` (enough for an error message), as text. */
  readonly body: string;
}

/** A call that got no answer. `requestSent`: the request was written out in full before it failed. */
export class JsonPostError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly requestSent: boolean,
  ) {
    super(message);
    this.name = 'JsonPostError';
  }
}

export interface JsonPoster {
  post(url: string, json: unknown, options?: { readonly signal?: AbortSignal | undefined }): Promise<JsonPostAnswer>;
}

export interface JsonPosterOptions {
  readonly headers: Readonly<Record<string, string>>;
  /** From the start of the call to the end of the answer. */
  readonly timeoutMs: number;
  /** Kept-alive connections per origin. */
  readonly maxSockets: number;
  readonly maxBodyBytes?: number;
}

export function createJsonPoster(options: JsonPosterOptions): JsonPoster {
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: options.maxSockets }),
  };

  return {
    post(url, json, callOptions = {}) {
      return new Promise<JsonPostAnswer>((resolve, reject) => {
        let target: URL;
        try {
          target = new URL(url);
        } catch {
          reject(new JsonPostError('ERR_INVALID_URL', `invalid URL: ${url}`, false));
          return;
        }
        const protocol = target.protocol === 'https:' ? 'https:' : target.protocol === 'http:' ? 'http:' : undefined;
        if (!protocol) {
          reject(new JsonPostError('ERR_INVALID_URL', `unsupported protocol ${target.protocol}`, false));
          return;
        }
        const signal = callOptions.signal;
        if (signal?.aborted) {
          reject(new JsonPostError('ABORT_ERR', 'aborted before it was sent', false));
          return;
        }
        const payload = Buffer.from(JSON.stringify(json));
        let requestSent = false;
        let settled = false;
        const finish = (error: JsonPostError | undefined, answer?: JsonPostAnswer) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve(answer!);
        };
        const fail = (code: string, message: string) => {
          const error = new JsonPostError(code, message, requestSent);
          finish(error);
          request.destroy(error);
        };
        const onAbort = () => fail('ABORT_ERR', 'aborted');
        const timer = setTimeout(() => fail('ETIMEDOUT', `no answer within ${options.timeoutMs} ms`), options.timeoutMs);

        const module = protocol === 'https:' ? https : http;
        const request = module.request(
          target,
          {
            method: 'POST',
            agent: agents[protocol],
            headers: { ...options.headers, 'Content-Length': String(payload.length) },
          },
          (response) => {
            const chunks: Buffer[] = [];
            let kept = 0;
            response.on('data', (chunk: Buffer) => {
              if (kept >= maxBodyBytes) return;
              chunks.push(chunk);
              kept += chunk.length;
            });
            response.on('end', () => {
              const body = Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8');
              finish(undefined, { status: response.statusCode ?? 0, headers: response.headers, body });
            });
            response.on('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'ECONNRESET', error.message));
          },
        );
        // 'finish': the whole request was handed to the socket, so GOSAC may act on it.
        request.on('finish', () => (requestSent = true));
        request.on('error', (error: NodeJS.ErrnoException) => {
          if (settled) return;
          finish(new JsonPostError(error.code ?? 'ERR_REQUEST', error.message, requestSent));
        });
        signal?.addEventListener('abort', onAbort, { once: true });
        request.end(payload);
      });
    },
  };
}
