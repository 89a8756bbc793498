// Inspection viewers for bench/inspection.bench.ts, in a process of their own so that reading
// frames never delays the load generator's event loop. Usage: node inspect-viewers.mjs <ws url> <count>.
// Prints {"ready":true} once every viewer is connected; on SIGTERM prints {"frames":n,"dropped":m}.
import { WebSocket } from 'ws';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
let frames = 0;
let dropped = 0;
const sockets = await Promise.all(
  Array.from({ length: count }, async () => {
    const socket = new WebSocket(url);
    socket.on('message', (data) => {
      frames += 1;
      const text = String(data);
      if (text.startsWith('{"type":"@flowbot.dropped"')) dropped += JSON.parse(text).count;
    });
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return socket;
  }),
);
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
process.on('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.stdout.write(`${JSON.stringify({ frames, dropped })}\n`, () => process.exit(0));
});
