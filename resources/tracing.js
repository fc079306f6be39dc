// What tracing needs in every function's role (serverless-iam-roles-per-function inherits
// provider.iam.role.statements): the two X-Ray calls the Lambda runtime makes, only when the
// stage's `tracing` param is on (X-Ray has no resource-level permissions, hence "*").
module.exports = {
  statements: async ({ resolveVariable }) => {
    const tracing = String(await resolveVariable('param:tracing')) === 'true';
    return tracing
      ? [{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }]
      : [];
  },
};
