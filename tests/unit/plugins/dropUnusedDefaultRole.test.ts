import { expect } from 'chai';

const { dropUnusedDefaultRole } = require('../../../plugins/drop-unused-default-role') as {
  dropUnusedDefaultRole: (template: { Resources: Record<string, unknown> }) => void;
};

const role = { Type: 'AWS::IAM::Role', Properties: { Policies: [] } };
const functionWithRole = (name: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Role: { 'Fn::GetAtt': [name, 'Arn'] } },
});

describe('drop-unused-default-role plugin', () => {
  it('drops the default role when no resource refers to it', () => {
    const template = { Resources: { IamRoleLambdaExecution: role, F: functionWithRole('FRole'), FRole: role } };
    dropUnusedDefaultRole(template);
    expect(Object.keys(template.Resources)).to.deep.equal(['F', 'FRole']);
  });

  it('keeps it while a function runs with it', () => {
    const template = { Resources: { IamRoleLambdaExecution: role, F: functionWithRole('IamRoleLambdaExecution') } };
    dropUnusedDefaultRole(template);
    expect(template.Resources).to.have.property('IamRoleLambdaExecution');
  });
});
