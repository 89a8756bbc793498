// The WebSocket endpoint alone, on an HTTP server of its own with in-process fan-out: a slow
// viewer is dropped frames (and told) instead of growing the server's memory; filters.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import type { CoreDeps } from '../../src/app-deps.js';
import { createInspectionHub, type InspectionHub } from '../../src/inspection/inspection-hub.js';
import { encodeItems, type InspectionItem } from '../../src/inspection/inspection-frames.js';
import { inspectionChannels } from '../../src/inspection/inspection-publisher.js';
import { eventually } from '../support/eventually.js';
import type { TestDatabase } from '../support/test-database.js';
import { buildTestDeps, TEST_ADMIN_TOKEN } from '../support/test-deps.js';

describe('the /inspect/ws endpoint', () => {
  let deps: CoreDeps & { testDb: TestDatabase };
  let hub: InspectionHub;
  let server: Server;
  let url: string;

  before(async () => {
    deps = await buildTestDeps();
    hub = createInspectionHub(deps, { maxBufferedBytes: 64 * 1024 });
    server = createServer((_request, response) => response.end());
    server.on('upgrade', (request, socket, head) => hub.handleUpgrade(request, socket, head as Buffer));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/inspect/ws?token=${TEST_ADMIN_TOKEN}`;
  });
  after(async () => {
    await hub.close();
    await new Promise((resolve) => server.close(resolve));
    await deps.testDb.drop();
  });

  const channels = () => inspectionChannels(deps.databaseUrl);
  const publish = (message: { items: InspectionItem[] }) => deps.sharedState.publish(channels().frames, encodeItems(message.items));
  const frame = (conversationId: number, padding = '') => ({
    type: '@xstate.event' as const,
    sessionId: `conversation:${conversationId}`,
    rootId: `conversation:${conversationId}`,
    createdAt: '1',
    id: 'x',
    _version: '0.7.2',
    sourceId: undefined,
    event: { type: 'USER_INPUT', padding },
  });
  async function open(query: string): Promise<{ socket: WebSocket; received: any[] }> {
    const socket = new WebSocket(`${url}&${query}`);
    const received: any[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data))));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return { socket, received };
  }

  it('subscribes while someone watches and leaves the channel with the last viewer', async () => {
    expect(await deps.sharedState.subscriberCount(channels().frames)).to.equal(0);
    const viewer = await open('');
    await eventually(async () => {
      expect(await deps.sharedState.subscriberCount(channels().frames)).to.equal(1);
    });
    viewer.socket.close();
    await eventually(async () => {
      expect(await deps.sharedState.subscriberCount(channels().frames)).to.equal(0);
    });
  });

  it('sends each viewer only the conversations, contacts and flows it asked for', async () => {
    const byConversation = await open('conversation=11');
    const byContact = await open('contact=220');
    const byFlow = await open('flow=3');
    await eventually(async () => {
      expect(hub.viewers()).to.equal(3);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await publish({
      items: [
        { conversationId: 11, contactId: 110, flowId: 1, frames: [frame(11)] },
        { conversationId: 22, contactId: 220, flowId: 3, frames: [frame(22)] },
      ],
    });
    await eventually(async () => {
      expect(byConversation.received.map((f) => f.sessionId)).to.deep.equal(['conversation:11']);
      expect(byContact.received.map((f) => f.sessionId)).to.deep.equal(['conversation:22']);
      expect(byFlow.received.map((f) => f.sessionId)).to.deep.equal(['conversation:22']);
    });
    for (const viewer of [byConversation, byContact, byFlow]) viewer.socket.close();
    await eventually(async () => {
      expect(hub.viewers()).to.equal(0);
    });
  });

  it('answers 400 to a bad filter before the upgrade', async () => {
    const status = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${url}&contact=abc`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('error', () => undefined);
    });
    expect(status).to.equal(400);
  });

  it('drops frames for a viewer that does not read, says how many, and keeps its buffer bounded', async function () {
    this.timeout(30_000);
    const viewer = await open('conversation=5');
    await eventually(async () => {
      expect(hub.viewers()).to.equal(1);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The client stops reading: the server's socket buffer fills up.
    (viewer.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
    const padding = 'x'.repeat(16 * 1024);
    const published = 400;
    for (let index = 0; index < published; index += 1) {
      await publish({ items: [{ conversationId: 5, contactId: 1, flowId: 1, frames: [frame(5, padding)] }] });
    }
    (viewer.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    await eventually(async () => {
      const notice = viewer.received.find((f) => f.type === '@flowbot.dropped');
      expect(notice, 'a @flowbot.dropped notice').to.not.equal(undefined);
    }, 15_000);
    const delivered = viewer.received.filter((f) => f.type === '@xstate.event').length;
    const dropped = viewer.received.filter((f) => f.type === '@flowbot.dropped').reduce((sum, f) => sum + f.count, 0);
    expect(dropped).to.be.greaterThan(0);
    expect(delivered + dropped).to.equal(published);
    // At most what fits the bound plus what the kernel buffers took: far fewer than were published.
    expect(delivered).to.be.lessThan(published);
    viewer.socket.close();
  });
});
