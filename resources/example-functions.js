// The example workflow's and the fault suite's state functions (test-functions/), deployed only
// where the stage's `exampleFunctions` param is true (local and dev), never in prod.
const FUNCTIONS = {
  prepare: { handler: 'test-functions/workflow.prepare' },
  'task-1': { handler: 'test-functions/workflow.task1' },
  'task-2a': { handler: 'test-functions/workflow.task2a' },
  'task-2b': { handler: 'test-functions/workflow.task2b' },
  finalize: { handler: 'test-functions/workflow.finalize' },
  flaky: { handler: 'test-functions/faulty.flaky' },
  'always-fails': { handler: 'test-functions/faulty.alwaysFails' },
  garbage: { handler: 'test-functions/faulty.garbage' },
  sleepy: { handler: 'test-functions/faulty.sleepy', timeout: 2 },
  park: { handler: 'test-functions/faulty.park' },
  noop: { handler: 'test-functions/faulty.noop' },
  recover: { handler: 'test-functions/faulty.recover' },
  grow: { handler: 'test-functions/faulty.grow' },
  heavy: { handler: 'test-functions/faulty.heavy' },
  // README "Writing a state function": the example of a user's own function, in src/.
  chargeCard: { handler: 'src/chargeCard.chargeCard' },
};

async function enabled(resolveVariable) {
  const value = await resolveVariable('param:exampleFunctions');
  return value === true || value === 'true';
}

module.exports = {
  FUNCTIONS,
  enabled,
  // Each function's definition, or null (serverless drops a function whose definition is null).
  functions: async ({ resolveVariable }) => {
    const on = await enabled(resolveVariable);
    // Each its own role with no statement (logs, and X-Ray when tracing, come with every role): the
    // framework's shared default role may receive and delete on the service's queues.
    return Object.fromEntries(
      Object.entries(FUNCTIONS).map(([name, fn]) => [name, on ? { ...fn, iamRoleStatements: [] } : null]),
    );
  },
};
