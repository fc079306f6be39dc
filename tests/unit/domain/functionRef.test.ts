import { expect } from 'chai';
import { type FunctionScope, isWellFormedReference, resolveFunction } from '../../../domain/functionRef';
import { scope } from '../../helpers/factories';

const arnOf = (name: string, { partition = 'aws', region = 'us-east-1', account = '123456789012' } = {}) =>
  `arn:${partition}:lambda:${region}:${account}:function:${name}`;

/** Every form a machine's config can name `key` of stage dev by. */
const everyForm = (key: string) => [
  key,
  `svc-dev-${key}`,
  arnOf(`svc-dev-${key}`),
  `${arnOf(`svc-dev-${key}`)}:$LATEST`,
  `${arnOf(`svc-dev-${key}`)}:7`,
  `${arnOf(`svc-dev-${key}`)}:live`,
];

describe('resolveFunction', () => {
  it("turns a short key of a state function into this stage's function name", () => {
    expect(resolveFunction('prepare', scope)).to.equal('svc-dev-prepare');
  });

  it('keeps the full name of a state function as it is', () => {
    expect(resolveFunction('svc-dev-prepare', scope)).to.equal('svc-dev-prepare');
  });

  it("accepts a state function's ARN here, unqualified or with a version or alias", () => {
    for (const arn of everyForm('task-1').slice(2)) expect(resolveFunction(arn, scope), arn).to.equal(arn);
  });

  it('refuses the same name in another account, region or partition', () => {
    expect(resolveFunction(arnOf('svc-dev-task-1'), scope)).to.equal(arnOf('svc-dev-task-1'));
    for (const elsewhere of [
      arnOf('svc-dev-task-1', { account: '555555555555' }),
      arnOf('svc-dev-task-1', { region: 'eu-west-1' }),
      `${arnOf('svc-dev-task-1', { region: 'eu-west-1' })}:live`,
      arnOf('svc-dev-task-1', { partition: 'aws-cn' }),
    ]) {
      expect(resolveFunction(elsewhere, scope), elsewhere).to.equal(undefined);
    }
  });

  it('accepts ARNs by name where the account, region and partition are unknown', () => {
    const { accountId: _accountId, region: _region, partition: _partition, ...unknown } = scope;
    const arn = arnOf('svc-dev-prepare', { account: '000000000000', region: 'eu-west-1' });
    expect(resolveFunction(arn, unknown)).to.equal(arn);
  });

  it('allows exactly the state functions: no other name of this stage, however it is written', () => {
    // The API functions, the transition processor and the dead-letter consumer share the prefix.
    for (const key of ['addMachine', 'getMachine', 'transition', 'deadLetters', 'other-fn']) {
      for (const reference of everyForm(key)) expect(resolveFunction(reference, scope), reference).to.equal(undefined);
    }
    // A name is matched whole: neither a prefix of a state function's name nor a longer one.
    for (const name of ['svc-dev-prep', 'svc-dev-prepare2', 'svc-dev-', 'prepar', 'prepare-']) {
      expect(resolveFunction(name, scope), name).to.equal(undefined);
    }
  });

  it('never lets an extra ARN pattern admit a function of this stage that is not a state function', () => {
    const broad = { ...scope, extraFunctionArns: ['arn:aws:lambda:*:*:function:*'] };
    for (const key of ['addMachine', 'transition', 'deadLetters']) {
      for (const reference of everyForm(key).slice(2))
        expect(resolveFunction(reference, broad), reference).to.equal(undefined);
    }
    expect(resolveFunction(arnOf('billing-charge'), broad)).to.equal(arnOf('billing-charge'));
    expect(resolveFunction(arnOf('svc-dev-prepare'), broad)).to.equal(arnOf('svc-dev-prepare'));
  });

  it("refuses a sibling stage's functions (a stage named like this one plus a suffix, or another stage)", () => {
    const prod: FunctionScope = {
      servicePrefix: 'svc-prod-',
      stateFunctions: ['svc-prod-prepare'],
      extraFunctionArns: [],
      accountId: '123456789012',
    };
    expect(resolveFunction('prepare', prod)).to.equal('svc-prod-prepare');
    for (const reference of [
      'eu-prepare',
      'svc-prod-eu-prepare',
      arnOf('svc-prod-eu-prepare'),
      `${arnOf('svc-prod-eu-prepare')}:live`,
      'svc-dev-prepare',
      arnOf('svc-dev-prepare'),
    ]) {
      expect(resolveFunction(reference, prod), reference).to.equal(undefined);
    }
  });

  it('allows nothing of the service in a stage with no state function', () => {
    const none: FunctionScope = { ...scope, stateFunctions: [], extraFunctionArns: [] };
    for (const reference of everyForm('prepare'))
      expect(resolveFunction(reference, none), reference).to.equal(undefined);
  });

  it('matches an extra ARN pattern against the whole ARN, in any account, never a bare name', () => {
    const partner = 'arn:aws:lambda:us-east-1:999999999999:function:partner-sync';
    expect(resolveFunction(partner, scope)).to.equal(partner);
    expect(resolveFunction(`${partner}:live`, scope)).to.equal(`${partner}:live`);
    expect(resolveFunction('arn:aws:lambda:us-east-1:999999999999:function:other', scope)).to.equal(undefined);
    expect(resolveFunction('arn:aws:lambda:eu-west-1:999999999999:function:partner-sync', scope)).to.equal(undefined);
    expect(resolveFunction('partner-sync', scope)).to.equal(undefined);
    expect(resolveFunction(arnOf('someone-elses'), scope)).to.equal(undefined);
  });

  it('refuses malformed references', () => {
    expect(resolveFunction('x'.repeat(60), scope)).to.equal(undefined);
    expect(resolveFunction('bad name', scope)).to.equal(undefined);
    expect(resolveFunction('', scope)).to.equal(undefined);
    expect(resolveFunction(`${arnOf('svc-dev-prepare')}:`, scope)).to.equal(undefined);
    expect(resolveFunction('svc-dev-prepare:live', scope)).to.equal(undefined);
  });

  it('escapes regular-expression characters in patterns', () => {
    const only = (pattern: string): FunctionScope => ({ ...scope, extraFunctionArns: [`arn:aws:lambda:*:${pattern}`] });
    const qualified = 'arn:aws:lambda:us-east-1:999999999999:function:partner-sync:$LATEST';
    for (const pattern of ['partner-sync:$LATEST', 'partner-sync:$*']) {
      expect(resolveFunction(qualified, only(pattern)), pattern).to.equal(qualified);
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
      ['a$', 'a'],
      ['a\\b', 'a'],
      ['a)', 'a'],
      ['a(', 'a'],
      ['a[', 'a'],
    ] as const) {
      const reference = arnOf(name, { account: '999999999999' });
      expect(resolveFunction(reference, only(`999999999999:function:${pattern}`)), pattern).to.equal(undefined);
    }
  });

  it('matches a pattern against the whole ARN, with * for any characters', () => {
    const only = (pattern: string): FunctionScope => ({ ...scope, extraFunctionArns: [pattern] });
    const team = (name: string) => arnOf(name, { account: '999999999999' });
    const pattern = 'arn:aws:lambda:us-east-1:999999999999:function:team-*-fn';
    expect(resolveFunction(team('team-a-fn'), only(pattern))).to.equal(team('team-a-fn'));
    expect(resolveFunction(team('team--fn'), only(pattern))).to.equal(team('team--fn'));
    expect(resolveFunction(team('xteam-a-fn'), only(pattern))).to.equal(undefined);
    expect(resolveFunction(team('team-a-fnx'), only(pattern))).to.equal(undefined);
    expect(resolveFunction(team('exact'), only(team('exact')))).to.equal(team('exact'));
    expect(resolveFunction(team('exactly'), only(team('exact')))).to.equal(undefined);
    expect(resolveFunction(`${team('exact')}:live`, only(team('exact')))).to.equal(undefined);
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
