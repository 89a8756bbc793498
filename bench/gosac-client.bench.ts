// The CPU one reply costs in the HTTP client, in this process: the same POST to a local server
// answering 200 at once, through got (as every other integration calls) and through the JSON
// poster the GOSAC client uses (src/integrations/json-post.ts, ADR 0010), 64 calls in flight
// over kept-alive connections. The server runs in the same process, so each figure is client +
// server; the difference between the two is the client's alone. Medians of 5 rounds, after one
// warm-up round. Leaves out TLS and a real network.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import got from 'got';
import { createJsonPoster } from '../src/integrations/json-post.js';
import { median } from './bench-environment.js';

export interface ClientCostResult {
  calls: number;
  gotUs: number;
  posterUs: number;
}

const HEADERS = { Authorization: 'INTEGRATION bench', 'Content-Type': 'application/json', INTEGRATION: 'flowbot' };

async function cpuPerCall(calls: number, call: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  let started = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (started < calls) {
        started += 1;
        await call();
      }
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

export async function runGosacClientBench(calls = 4_000, rounds = 5): Promise<ClientCostResult> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/messages/1`;
  const body = { body: 'Olá, Maria! Qual é o seu pedido?' };
  const viaGot = got.extend({
    headers: HEADERS,
    agent: { http: new http.Agent({ keepAlive: true, maxSockets: 256 }) },
    retry: { limit: 0 },
    timeout: { request: 10_000 },
    throwHttpErrors: false,
    followRedirect: false,
  });
  const poster = createJsonPoster({ headers: HEADERS, timeoutMs: 10_000, maxSockets: 256 });
  const clients = {
    got: () => viaGot.post(url, { body: JSON.stringify(body) }),
    poster: () => poster.post(url, body),
  };
  try {
    const samples: Record<keyof typeof clients, number[]> = { got: [], poster: [] };
    for (let round = 0; round <= rounds; round += 1) {
      for (const name of ['got', 'poster'] as const) {
        const us = await cpuPerCall(calls, clients[name]);
        if (round > 0) samples[name].push(us);
      }
    }
    return { calls, gotUs: median(samples.got), posterUs: median(samples.poster) };
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runGosacClientBench()));
}
