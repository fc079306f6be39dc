// Routes of the HTTP API and how they are authorized, from the stage's `apiAuth` param:
//   iam  - every route needs a SigV4 signature (API Gateway AWS_IAM): the default of a deployed stage;
//   jwt  - every route needs a bearer JWT of `jwtIssuer` for `jwtAudience` (callers outside AWS);
//   none - open: the `local` stage only; any other stage refuses it (docs/deploying.md "Auth").
// serverless.yml takes each function's httpApi event from `routes`, the authorizers from
// `authorizers`, the API functions' reserved concurrency from `reservedConcurrency` and the access
// log format from `accessLogFormat`.
//
// Nothing here looks at the command line: `sls offline start` removes the authorizers itself
// (plugins/serverless-offline-emulators, on the framework's offline:start:init hook), as
// serverless-offline cannot check SigV4; with `--apiAuth iam` the plugin's SigV4 front checks
// every request as an AWS_IAM route would.
const ROUTES = {
  addMachine: ['POST', '/machines'],
  listMachines: ['GET', '/machines'],
  getMachine: ['GET', '/machines/{id}'],
  machineHistory: ['GET', '/machines/{id}/history'],
  machineDiagram: ['GET', '/machines/{id}/diagram'],
  resumeMachine: ['POST', '/machines/{id}/resume'],
  redriveMachine: ['POST', '/machines/{id}/redrive'],
  wakeMachine: ['POST', '/machines/{id}/wake'],
  deleteMachine: ['DELETE', '/machines/{id}'],
  callback: ['POST', '/callbacks'],
  callbackFail: ['POST', '/callbacks/fail'],
  callbackHeartbeat: ['POST', '/callbacks/heartbeat'],
};
const MODES = ['iam', 'jwt', 'none'];
/** The one stage whose API may be open: the one the tests and the benchmark run offline. */
const OPEN_STAGE = 'local';

async function mode(resolveVariable) {
  const value = await resolveVariable('param:apiAuth');
  if (!MODES.includes(value)) throw new Error(`param apiAuth must be one of ${MODES.join(', ')}, not '${value}'`);
  if (value === 'none') {
    const stage = await resolveVariable('sls:stage');
    if (stage !== OPEN_STAGE) {
      throw new Error(
        `param apiAuth none (an open API) is for the '${OPEN_STAGE}' stage only, not '${stage}': use iam or jwt (docs/deploying.md "Auth")`,
      );
    }
  }
  return value;
}

/**
 * The access log line (API Gateway's $context variables): who called (the IAM caller's ARN, or
 * the JWT's subject), the route, the answer, how long it took and the request id.
 */
const ACCESS_LOG = {
  requestId: '$context.requestId',
  time: '$context.requestTimeEpoch',
  caller: '$context.identity.userArn',
  jwtSubject: '$context.authorizer.claims.sub',
  sourceIp: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  responseLength: '$context.responseLength',
  error: '$context.error.message',
};

module.exports = {
  ROUTES,
  ACCESS_LOG,
  routes: async ({ resolveVariable }) => {
    const auth = await mode(resolveVariable);
    const authorizer = auth === 'iam' ? { type: 'aws_iam' } : auth === 'jwt' ? { name: 'jwt' } : undefined;
    return Object.fromEntries(
      Object.entries(ROUTES).map(([name, [method, path]]) => [
        name,
        { method, path, ...(authorizer ? { authorizer } : {}) },
      ]),
    );
  },
  authorizers: async ({ resolveVariable }) => {
    if ((await mode(resolveVariable)) !== 'jwt') return {};
    const issuerUrl = await resolveVariable('param:jwtIssuer');
    const audience = String(await resolveVariable('param:jwtAudience'))
      .split(',')
      .map((value) => value.trim())
      .filter(Boolean);
    if (!issuerUrl || audience.length === 0) throw new Error('apiAuth jwt needs the params jwtIssuer and jwtAudience');
    return { jwt: { identitySource: '$request.header.Authorization', issuerUrl, audience } };
  },
  reservedConcurrency: async ({ resolveVariable }) => {
    const value = String(await resolveVariable('param:apiReservedConcurrency')).trim();
    if (value === '') return null;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`param apiReservedConcurrency must be empty (none) or a whole number >= 1, not '${value}'`);
    }
    return n;
  },
  accessLogFormat: () => JSON.stringify(ACCESS_LOG),
};
