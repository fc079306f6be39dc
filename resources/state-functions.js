// This stage's state functions, the only functions of the service a machine's config may name,
// computed here once from the service config; the API's allow-list (env ALLOWED_FUNCTIONS, read by
// handlers/wiring/config.ts) and the transition processor's lambda:InvokeFunction resources are both
// built from them, so the two cannot drift apart. They are:
//   - the example and fault-suite functions (resources/example-functions.js), where the stage deploys them;
//   - the keys of `functions` listed in custom.statemachine.stateFunctions (your own state functions).
// Plus custom.statemachine.extraFunctionArns: ARN globs of functions outside this service.
// Never the API functions, the transition processor or the dead-letter consumer (they have events),
// nor another stage's functions: the list holds exact names, not a `<service>-<stage>-*` prefix,
// which would also match a stage named `<stage>-eu` and every function of this one.
const examples = require('./example-functions.js');

const KEY = /^[A-Za-z0-9_-]+$/;

async function stateFunctionNames(resolveVariable) {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const declared = (await resolveVariable('self:custom.statemachine.stateFunctions, null')) ?? [];
  if (!Array.isArray(declared)) throw new Error('custom.statemachine.stateFunctions must be a list of function keys');
  for (const key of declared) {
    if (typeof key !== 'string' || !KEY.test(key))
      throw new Error(`custom.statemachine.stateFunctions: '${key}' is not a function key`);
    // What makes a function a state function must be true of it, or the IAM grant would not match
    // (or would grant an entry point of the service).
    if ((await resolveVariable(`self:functions.${key}.handler, null`)) === null)
      throw new Error(`custom.statemachine.stateFunctions: '${key}' is not a function of this service`);
    if ((await resolveVariable(`self:functions.${key}.events, null`))?.length)
      throw new Error(
        `custom.statemachine.stateFunctions: '${key}' has events; a state function is invoked by the transition processor only`,
      );
    // The short key of a reference names `<service>-<stage>-<key>`, Serverless's default name.
    if ((await resolveVariable(`self:functions.${key}.name, null`)) !== null)
      throw new Error(
        `custom.statemachine.stateFunctions: '${key}' sets a name; a state function keeps its default name`,
      );
  }
  const keys = [...((await examples.enabled(resolveVariable)) ? Object.keys(examples.FUNCTIONS) : []), ...declared];
  return [...new Set(keys)].map((key) => `${service}-${stage}-${key}`);
}

async function extraFunctionArns(resolveVariable) {
  const extra = (await resolveVariable('self:custom.statemachine.extraFunctionArns, null')) ?? [];
  if (!Array.isArray(extra)) throw new Error('custom.statemachine.extraFunctionArns must be a list of ARN globs');
  for (const pattern of extra) {
    // A name pattern would be no IAM resource, and a comma would split the allow-list's entry.
    if (typeof pattern !== 'string' || !pattern.startsWith('arn:') || pattern.includes(','))
      throw new Error(`custom.statemachine.extraFunctionArns: '${pattern}' is not an ARN glob`);
  }
  return extra;
}

// A function's ARN where the stack runs: its partition (aws, aws-cn, aws-us-gov...), region and account.
const functionArn = (name) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':lambda:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:function:${name}`,
    ],
  ],
});

module.exports = async ({ resolveVariable }) => {
  const names = await stateFunctionNames(resolveVariable);
  const extra = await extraFunctionArns(resolveVariable);
  // IAM grants an unqualified ARN for unqualified invokes only: `<name>:*` lets a reference with
  // a version or alias qualifier be invoked too.
  const resources = [...names.flatMap((name) => [functionArn(name), functionArn(`${name}:*`)]), ...extra];
  return {
    // Exact names, then ARN globs: handlers/wiring/config.ts tells them apart by the `arn:` prefix.
    allowList: [...names, ...extra].join(','),
    // The transition processor's invoke statement. IAM refuses a statement without resources, so
    // a stage with no state function (prod, until you add yours) denies every invoke instead.
    invokeStatement:
      resources.length > 0
        ? { Effect: 'Allow', Action: ['lambda:InvokeFunction'], Resource: resources }
        : { Effect: 'Deny', Action: ['lambda:InvokeFunction'], Resource: '*' },
  };
};
