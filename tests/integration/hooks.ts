import { startTestStack, stopTestStack } from '../helpers/stack';

/** Root hooks: one local stack for all integration tests, stopped even when tests fail. */
export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    await startTestStack();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopTestStack();
  },
};
