// Mocha root hooks: shared resources (embedded PostgreSQL) are started lazily by the suites that
// need them and stopped once here, after every suite has run.
import { stopSharedTestResources } from './shared-resources.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(90_000);
    await stopSharedTestResources();
  },
};
