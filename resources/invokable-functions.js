// Builds, from custom.statemachine.extraFunctionArns, both the allow-list the API checks machine
// configs against and the IAM resources the transition processor may invoke, so they cannot drift.
module.exports = async ({ resolveVariable }) => {
  const service = await resolveVariable('self:service');
  const stage = await resolveVariable('sls:stage');
  const extra = (await resolveVariable('self:custom.statemachine.extraFunctionArns, null')) ?? [];
  const own = {
    'Fn::Join': [
      ':',
      ['arn:aws:lambda', { Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, `function:${service}-${stage}-*`],
    ],
  };
  return { iamResources: [own, ...extra], allowList: extra.join(',') };
};
