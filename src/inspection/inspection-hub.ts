// GET /inspect/ws (SPEC §9), on the service's own HTTP server: admin token before the upgrade,
// filters, the current snapshot of every matching conversation first, then the frames of steps
// committed on any replica. A slow viewer never slows anything down: past a bounded buffer its
// frames are dropped and it is told how many.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { CoreDeps } from '../app-deps.js';
import { adminTokenMatcher, bearerTokenOf } from '../http/middleware/admin-auth.js';
import { actorFrame, decodeItems, type InspectionItem } from './inspection-frames.js';
import { inspectionChannels } from './inspection-publisher.js';
import { watchedConversations, type ConversationFilter } from './inspection-queries.js';

export const INSPECT_WS_PATH = '/inspect/ws';

export interface InspectionHubOptions {
  /** Bytes a socket may have waiting to be sent before its frames are dropped. */
  readonly maxBufferedBytes?: number;
  /** Heartbeat: a socket that does not answer a ping within this time is closed. */
  readonly pingIntervalMs?: number;
}

export interface InspectionHub {
  /** The HTTP server's 'upgrade' listener. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  viewers(): number;
  close(): Promise<void>;
}

interface Viewer {
  readonly socket: WebSocket;
  readonly filter: ConversationFilter;
  /** False until its initial @xstate.actor frames went out; live frames wait meanwhile. */
  ready: boolean;
  readonly waiting: string[];
  dropped: number;
  alive: boolean;
}

const DEFAULT_MAX_BUFFERED = 1024 * 1024;
const MAX_WAITING_FRAMES = 1_000;

export type FilterParse = { ok: true; filter: ConversationFilter } | { ok: false; error: string };

/** `?conversation=`, `?contact=`, `?flow=`: positive integers when given. */
export function parseFilter(params: URLSearchParams): FilterParse {
  const filter: { conversation?: number; contact?: number; flow?: number } = {};
  for (const name of ['conversation', 'contact', 'flow'] as const) {
    const raw = params.get(name);
    if (raw === null || raw.trim() === '') continue;
    if (!/^\d{1,15}$/.test(raw.trim()) || Number(raw) <= 0) return { ok: false, error: `${name}: must be a positive whole number` };
    filter[name] = Number(raw);
  }
  return { ok: true, filter };
}

export function matchesFilter(filter: ConversationFilter, item: Pick<InspectionItem, 'conversationId' | 'contactId' | 'flowId'>): boolean {
  return (
    (filter.conversation === undefined || filter.conversation === item.conversationId) &&
    (filter.contact === undefined || filter.contact === item.contactId) &&
    (filter.flow === undefined || filter.flow === item.flowId)
  );
}

/** The TCP socket under a WebSocket (`ws` keeps it in `_socket`), to cork a batch of frames. */
function rawSocketOf(socket: WebSocket): Pick<Socket, 'cork' | 'uncork'> | undefined {
  const raw = (socket as unknown as { _socket?: Partial<Socket> })._socket;
  return raw && typeof raw.cork === 'function' && typeof raw.uncork === 'function' ? (raw as Socket) : undefined;
}

function refuse(socket: Duplex, status: number, reason: string, error: string, extra = ''): void {
  const body = JSON.stringify({ errors: [error] });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
      `Cache-Control: no-store\r\nConnection: close\r\n${extra}\r\n${body}`,
  );
}

export function createInspectionHub(
  deps: Pick<CoreDeps, 'config' | 'db' | 'databaseUrl' | 'logger' | 'settings' | 'sharedState'>,
  options: InspectionHubOptions = {},
): InspectionHub {
  const log = deps.logger.child({ component: 'inspection' });
  const maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const tokenMatches = adminTokenMatcher(deps.config.adminApiToken);
  const server = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  const viewers = new Set<Viewer>();
  const channels = inspectionChannels(deps.databaseUrl);
  let subscribed = false;
  let closing = false;

  function deliver(viewer: Viewer, frame: string): void {
    if (!viewer.ready) {
      if (viewer.waiting.length < MAX_WAITING_FRAMES) viewer.waiting.push(frame);
      else viewer.dropped += 1;
      return;
    }
    const { socket } = viewer;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > maxBuffered) {
      viewer.dropped += 1;
      return;
    }
    flushDropNotice(viewer);
    socket.send(frame);
  }

  function flushDropNotice(viewer: Viewer): void {
    if (viewer.dropped === 0 || viewer.socket.readyState !== WebSocket.OPEN || viewer.socket.bufferedAmount > maxBuffered) return;
    viewer.socket.send(JSON.stringify({ type: '@flowbot.dropped', count: viewer.dropped }));
    viewer.dropped = 0;
  }

  // Frames arrive serialised (one header parse per batch): each is forwarded as it is. A viewer's
  // frames of one batch leave in one write: its TCP socket is corked until the batch is handed over
  // (measured: about a third of the CPU of one write per frame, for server and viewer alike).
  const onFrames = (text: string) => {
    if (viewers.size === 0) return;
    const items = decodeItems(text);
    if (!items) return;
    const corked = new Set<Viewer>();
    try {
      for (const item of items) {
        for (const viewer of viewers) {
          if (!matchesFilter(viewer.filter, item)) continue;
          if (!corked.has(viewer)) {
            corked.add(viewer);
            rawSocketOf(viewer.socket)?.cork();
          }
          for (const frame of item.frames) deliver(viewer, frame);
        }
      }
    } finally {
      for (const viewer of corked) rawSocketOf(viewer.socket)?.uncork();
    }
  };

  async function follow(): Promise<void> {
    if (subscribed) return;
    subscribed = true;
    await deps.sharedState.subscribe(channels.frames, onFrames);
    // Publishers learn at once that someone watches (they also recheck every second).
    await deps.sharedState.publish(channels.presence, '1').catch(() => undefined);
  }

  async function unfollowWhenAlone(): Promise<void> {
    if (viewers.size > 0 || !subscribed) return;
    subscribed = false;
    await deps.sharedState.unsubscribe(channels.frames, onFrames);
  }

  async function welcome(viewer: Viewer): Promise<void> {
    await follow();
    const { INSPECT_SHOW_TEXT: showText } = await deps.settings.current();
    const conversations = await watchedConversations(deps.db, viewer.filter);
    // One config object per version, so each version's definition is serialised once.
    const configs = new Map<number, unknown>();
    const at = Date.now();
    for (const conversation of conversations) {
      if (!configs.has(conversation.flow_version_id)) configs.set(conversation.flow_version_id, conversation.machine_config);
      const frame = actorFrame({
        conversationId: conversation.id,
        at,
        machineConfig: configs.get(conversation.flow_version_id),
        snapshot: conversation.conversation_state,
        options: { showText },
      });
      if (viewer.socket.readyState !== WebSocket.OPEN) return;
      viewer.socket.send(JSON.stringify(frame));
    }
    viewer.ready = true;
    for (const frame of viewer.waiting.splice(0)) deliver(viewer, frame);
  }

  function connected(socket: WebSocket, filter: ConversationFilter): void {
    const viewer: Viewer = { socket, filter, ready: false, waiting: [], dropped: 0, alive: true };
    viewers.add(viewer);
    socket.on('pong', () => {
      viewer.alive = true;
    });
    socket.on('error', (error) => log.debug({ err: error.message }, 'inspection socket error'));
    socket.on('close', () => {
      viewers.delete(viewer);
      unfollowWhenAlone().catch((error: unknown) => log.debug({ err: String(error) }, 'could not leave the frames channel'));
    });
    welcome(viewer).catch((error: unknown) => {
      log.warn({ err: String(error) }, 'could not send the current conversations to a viewer');
      socket.close(1011, 'could not read conversations');
    });
  }

  const heartbeat = setInterval(() => {
    for (const viewer of viewers) {
      if (!viewer.alive) {
        viewer.socket.terminate();
        continue;
      }
      viewer.alive = false;
      viewer.socket.ping();
      flushDropNotice(viewer);
    }
  }, options.pingIntervalMs ?? 30_000);
  heartbeat.unref();
  // Drop notices for viewers whose buffer drained while no new frame came.
  const drain = setInterval(() => {
    for (const viewer of viewers) if (viewer.ready) flushDropNotice(viewer);
  }, 1_000);
  drain.unref();

  return {
    handleUpgrade(request, socket, head) {
      const url = new URL(request.url ?? '/', 'http://localhost');
      if (url.pathname !== INSPECT_WS_PATH || closing) {
        refuse(socket, 404, 'Not Found', 'not found');
        return;
      }
      const presented = url.searchParams.get('token') ?? bearerTokenOf(request.headers.authorization);
      if (!tokenMatches(presented ?? undefined)) {
        refuse(socket, 401, 'Unauthorized', 'missing or invalid token', 'WWW-Authenticate: Bearer\r\n');
        return;
      }
      const parsed = parseFilter(url.searchParams);
      if (!parsed.ok) {
        refuse(socket, 400, 'Bad Request', parsed.error);
        return;
      }
      server.handleUpgrade(request, socket, head, (ws) => connected(ws, parsed.filter));
    },
    viewers: () => viewers.size,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      clearInterval(drain);
      for (const viewer of viewers) viewer.socket.terminate();
      viewers.clear();
      await unfollowWhenAlone().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
