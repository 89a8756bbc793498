// Kept-alive connections: the service must not close an idle connection before its clients do
// (Node's agent keeps one 5 s, load balancers up to 60 s), or a webhook sent on it is reset.
import { expect } from 'chai';
import { Agent, request } from 'node:http';
import { startTestService, type TestService } from '../support/test-service.js';

describe('kept-alive connections to the service', function () {
  this.timeout(30_000);
  let service: TestService;
  before(async () => {
    service = await startTestService({ ROLE: 'web' });
  });
  after(async () => {
    await service?.stop();
    await service?.testDb.drop();
  });

  const get = (agent: Agent) =>
    new Promise<{ status: number; keepAlive: string; reused: boolean }>((resolve, reject) => {
      const call = request(`${service.url}/health`, { agent }, (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? 0, keepAlive: String(response.headers['keep-alive']), reused: call.reusedSocket }));
      });
      call.on('error', reject);
      call.end();
    });

  it('announces 65 s and keeps an idle connection open past the 5 s of common clients', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(agent);
      expect(first).to.deep.equal({ status: 200, keepAlive: 'timeout=65', reused: false });
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(await get(agent)).to.deep.include({ status: 200, reused: true });
    } finally {
      agent.destroy();
    }
  });
});
