import { expect } from 'chai';
import { defaultAllowList, isWellFormedReference, resolveFunction } from '../../domain/functionRef';
import { scope } from '../helpers/factories';

describe('resolveFunction', () => {
  it("turns a short key into this service's function name", () => {
    expect(resolveFunction('prepare', scope)).to.equal('svc-dev-prepare');
  });

  it('keeps a full name of this service as it is', () => {
    expect(resolveFunction('svc-dev-prepare', scope)).to.equal('svc-dev-prepare');
  });

  it('keeps a full name allowed by an extra name pattern', () => {
    expect(resolveFunction('billing-charge', { ...scope, allowList: ['billing-*'] })).to.equal('billing-charge');
  });

  it('accepts an ARN of an allowed name in the same account', () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-task-1';
    expect(resolveFunction(arn, scope)).to.equal(arn);
  });

  it('refuses an ARN of an allowed name in another account', () => {
    expect(resolveFunction('arn:aws:lambda:us-east-1:555555555555:function:svc-dev-task-1', scope)).to.equal(undefined);
  });

  it('accepts an ARN matched by an ARN pattern, with a qualifier', () => {
    const arn = 'arn:aws:lambda:us-east-1:999999999999:function:partner-sync:live';
    expect(resolveFunction(arn, scope)).to.equal(arn);
  });

  it('accepts ARNs by name when the account is unknown (local runs)', () => {
    const { accountId: _accountId, ...localScope } = scope;
    expect(resolveFunction('arn:aws:lambda:us-east-1:000000000000:function:svc-dev-x', localScope)).to.be.a('string');
  });

  it('reads any other bare name as a short key of this service, so it stays inside the service', () => {
    expect(resolveFunction('other-fn', { ...scope, allowList: defaultAllowList('svc-dev-') })).to.equal(
      'svc-dev-other-fn',
    );
  });

  it('refuses names outside the allow-list and malformed references', () => {
    expect(resolveFunction('x'.repeat(60), scope)).to.equal(undefined);
    expect(resolveFunction('bad name', scope)).to.equal(undefined);
    expect(resolveFunction('prepare', { ...scope, allowList: ['arn:aws:lambda:*'] })).to.equal(undefined);
  });

  it('escapes regular-expression characters in patterns', () => {
    expect(
      resolveFunction('svc-devXprepare', { ...scope, servicePrefix: 'svc.dev-', allowList: ['svc.dev-*'] }),
    ).to.equal(undefined);
  });
});

describe('isWellFormedReference', () => {
  it('accepts names and ARNs and nothing else', () => {
    expect(isWellFormedReference('task-1')).to.equal(true);
    expect(isWellFormedReference('arn:aws:lambda:eu-west-1:123456789012:function:f')).to.equal(true);
    expect(isWellFormedReference('arn:aws:s3:::bucket')).to.equal(false);
    expect(isWellFormedReference('')).to.equal(false);
  });
});

describe('resolveFunction in a known region and partition', () => {
  const here = {
    servicePrefix: 'svc-prod-',
    allowList: ['svc-prod-prepare'],
    accountId: '123456789012',
    region: 'us-east-1',
    partition: 'aws',
  };
  const arn = (partition: string, region: string) =>
    `arn:${partition}:lambda:${region}:123456789012:function:svc-prod-prepare`;

  it("accepts this service's function by its ARN here", () => {
    expect(resolveFunction(arn('aws', 'us-east-1'), here)).to.equal(arn('aws', 'us-east-1'));
  });

  it('refuses the same name in another region or partition', () => {
    expect(resolveFunction(arn('aws', 'eu-west-1'), here)).to.equal(undefined);
    expect(resolveFunction(arn('aws-cn', 'us-east-1'), here)).to.equal(undefined);
  });
});
