// Routes of the HTTP API and how they are authorized, from the stage's `apiAuth` param:
//   iam  - every route needs a SigV4 signature (API Gateway AWS_IAM): the default of a deployed stage;
//   jwt  - every route needs a bearer JWT of `jwtIssuer` for `jwtAudience` (callers outside AWS);
//   none - open: the local stage only (serverless-offline).
// serverless.yml takes each function's httpApi event from `routes` and the authorizers from `authorizers`.
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
};
const MODES = ['iam', 'jwt', 'none'];

// `sls offline start` gets no authorizer whatever the stage says: serverless-offline cannot check SigV4
// and refuses to start with these authorizers. The API is open locally, unless started with
// `--apiAuth iam`: then the plugin's SigV4 front checks every request as an AWS_IAM route would
// (plugins/serverless-offline-emulators). Its start banner says which.
const OFFLINE = process.argv.includes('offline');

async function mode(resolveVariable) {
  if (OFFLINE) return 'none';
  const value = await resolveVariable('param:apiAuth');
  if (!MODES.includes(value)) throw new Error(`param apiAuth must be one of ${MODES.join(', ')}, not '${value}'`);
  return value;
}

module.exports = {
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
};
