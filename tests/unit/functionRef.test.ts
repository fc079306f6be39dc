import { expect } from 'chai';
import { defaultAllowList, isWellFormedReference, resolveFunction } from '../../domain/functionRef';
import { scope } from '../helpers/factories';

describe('defaultAllowList', () => {
  it("allows the service's own functions only", () => {
    expect(defaultAllowList('svc-dev-')).to.deep.equal(['svc-dev-*']);
  });
});

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

  it('refuses an ARN of a name outside the allow-list in the same account', () => {
    expect(resolveFunction('arn:aws:lambda:us-east-1:123456789012:function:other-fn', scope)).to.equal(undefined);
  });

  it('matches an ARN pattern against the whole ARN, in any account', () => {
    const arnScope = { ...scope, allowList: ['arn:aws:lambda:*:999999999999:function:partner-*'] };
    const partner = 'arn:aws:lambda:eu-west-1:999999999999:function:partner-sync';
    expect(resolveFunction(partner, arnScope)).to.equal(partner);
    expect(resolveFunction('arn:aws:lambda:eu-west-1:999999999999:function:other', arnScope)).to.equal(undefined);
    // An ARN pattern never matches a bare name, nor a name pattern an ARN of another account.
    expect(resolveFunction('partner-sync', arnScope)).to.equal(undefined);
    expect(resolveFunction('arn:aws:lambda:eu-west-1:999999999999:function:svc-dev-x', scope)).to.equal(undefined);
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
    expect(resolveFunction('', scope)).to.equal(undefined);
    expect(resolveFunction('arn:aws:lambda:us-east-1:123456789012:function:svc-dev-x:', scope)).to.equal(undefined);
    expect(resolveFunction('prepare', { ...scope, allowList: ['arn:aws:lambda:*'] })).to.equal(undefined);
  });

  it('escapes regular-expression characters in patterns', () => {
    expect(
      resolveFunction('svc-devXprepare', { ...scope, servicePrefix: 'svc.dev-', allowList: ['svc.dev-*'] }),
    ).to.equal(undefined);
    const qualified = 'arn:aws:lambda:us-east-1:999999999999:function:partner-sync:$LATEST';
    for (const pattern of ['arn:aws:lambda:*:partner-sync:$LATEST', 'arn:aws:lambda:*:partner-sync:$*']) {
      expect(resolveFunction(qualified, { ...scope, allowList: [pattern] }), pattern).to.equal(qualified);
    }
    // Each pattern, if read as a regular expression, would match the name next to it (or not compile).
    for (const [pattern, name] of [
      ['a.b', 'aXb'],
      ['a+b', 'aab'],
      ['a?b', 'b'],
      ['a{2}', 'aa'],
      ['(a)', 'a'],
      ['a|b', 'a'],
      ['a[bc]', 'ab'],
      ['^a', 'a'],
      ['a$', 'a'],
      ['a\\b', 'a'],
      ['a)', 'a'],
      ['a(', 'a'],
      ['a[', 'a'],
    ] as const) {
      expect(resolveFunction(name, { ...scope, allowList: [pattern] }), pattern).to.equal(undefined);
    }
  });

  it('matches a pattern against the whole name, with * for any characters', () => {
    const only = (pattern: string) => ({ ...scope, servicePrefix: 'p-', allowList: [pattern] });
    expect(resolveFunction('team-a-fn', only('team-*-fn'))).to.equal('team-a-fn');
    expect(resolveFunction('team--fn', only('team-*-fn'))).to.equal('team--fn');
    expect(resolveFunction('xteam-a-fn', only('team-*-fn'))).to.equal(undefined);
    expect(resolveFunction('team-a-fnx', only('team-*-fn'))).to.equal(undefined);
    expect(resolveFunction('exact', only('exact'))).to.equal('exact');
    expect(resolveFunction('exactly', only('exact'))).to.equal(undefined);
  });
});

describe('isWellFormedReference', () => {
  const arn = (name = 'f', { partition = 'aws', region = 'eu-west-1', account = '123456789012' } = {}) =>
    `arn:${partition}:lambda:${region}:${account}:function:${name}`;

  it('accepts names and ARNs and nothing else', () => {
    expect(isWellFormedReference('task-1')).to.equal(true);
    expect(isWellFormedReference('arn:aws:lambda:eu-west-1:123456789012:function:f')).to.equal(true);
    expect(isWellFormedReference('arn:aws:s3:::bucket')).to.equal(false);
    expect(isWellFormedReference('')).to.equal(false);
  });

  it('accepts function names of 1 to 64 letters, digits, hyphens and underscores', () => {
    for (const name of ['a', 'Z', '0', '9', '-', '_', 'My_Function-2', 'n'.repeat(64)]) {
      expect(isWellFormedReference(name), name).to.equal(true);
    }
  });

  it('refuses a longer name or any other character, wherever it stands', () => {
    for (const name of ['n'.repeat(65), 'a.b', 'a b', ' ab', 'ab ', 'a:b', 'a/b', 'ab\n', '\nab', 'é']) {
      expect(isWellFormedReference(name), JSON.stringify(name)).to.equal(false);
    }
  });

  it('accepts ARNs of every partition and region, with a version or alias qualifier', () => {
    for (const reference of [
      arn('f', { partition: 'aws-cn', region: 'cn-north-1' }),
      arn('f', { partition: 'aws-us-gov', region: 'us-gov-west-1' }),
      arn('n'.repeat(64)),
      `${arn()}:$LATEST`,
      `${arn()}:42`,
      `${arn()}:live_v-2`,
      `${arn()}:${'q'.repeat(128)}`,
    ]) {
      expect(isWellFormedReference(reference), reference).to.equal(true);
    }
  });

  it('refuses ARNs with a malformed part', () => {
    for (const reference of [
      arn('f', { partition: 'aws2' }),
      arn('f', { partition: 'AWS' }),
      arn('f', { region: '' }),
      arn('f', { region: 'EU-WEST-1' }),
      arn('f', { region: 'eu_west_1' }),
      arn('f', { account: '12345678901' }),
      arn('f', { account: '1234567890123' }),
      arn('f', { account: '12345678901x' }),
      arn(''),
      arn('n'.repeat(65)),
      arn('a.b'),
      `${arn()}:`,
      `${arn()}:${'q'.repeat(129)}`,
      `${arn()}:a.b`,
      `${arn()}:a:b`,
      `x${arn()}`,
      `${arn()} `,
      'arn:aws:lambda:eu-west-1:123456789012:layer:f',
    ]) {
      expect(isWellFormedReference(reference), reference).to.equal(false);
    }
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
