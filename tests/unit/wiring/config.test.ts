import { expect } from 'chai';
import { DEFAULT_LEASE_SECONDS, DEFAULT_STATUS_SHARDS, SQS_MAX_DELAY_SECONDS } from '../../../domain/limits';
import { functionScope, readConfig } from '../../../handlers/wiring/config';

const env = {
  SERVICE_PREFIX: 'svc-dev-',
  TABLE_NAME: 'machines',
  HISTORY_TABLE_NAME: 'history',
  QUEUE_URL: 'https://sqs/queue',
  ALLOWED_FUNCTIONS: 'svc-dev-prepare,svc-dev-noop',
};

describe('the service configuration', () => {
  it('reads the environment once, with defaults for what is optional', () => {
    const config = readConfig(env);
    expect(config).to.deep.include({
      region: 'us-east-1',
      tableName: 'machines',
      historyTableName: 'history',
      queueUrl: 'https://sqs/queue',
      servicePrefix: 'svc-dev-',
      stateFunctions: ['svc-dev-prepare', 'svc-dev-noop'],
      extraFunctionArns: [],
      leaseSeconds: DEFAULT_LEASE_SECONDS,
      maxQueueDelaySeconds: SQS_MAX_DELAY_SECONDS,
      statusShards: DEFAULT_STATUS_SHARDS,
    });
    expect(config.endpoints).to.deep.equal({ dynamodb: undefined, sqs: undefined, lambda: undefined });
  });

  it('fails fast, naming the variable, when a required one is missing', () => {
    expect(() => readConfig({ ...env, TABLE_NAME: '' })).to.throw('environment variable TABLE_NAME is not set');
  });

  it('refuses a lease that is not a positive whole number of seconds', () => {
    for (const value of ['0', '-1', '1.5', 'soon']) {
      expect(() => readConfig({ ...env, LEASE_SECONDS: value })).to.throw(
        'environment variable LEASE_SECONDS must be a positive integer',
      );
    }
  });

  it('reads the allow-list: exact names of the state functions, then ARN globs of functions outside', () => {
    const config = readConfig({
      ...env,
      ALLOWED_FUNCTIONS: ' svc-dev-prepare ,, arn:aws:lambda:*:*:function:billing-*',
    });
    expect(config.stateFunctions).to.deep.equal(['svc-dev-prepare']);
    expect(config.extraFunctionArns).to.deep.equal(['arn:aws:lambda:*:*:function:billing-*']);
    expect(readConfig({ ...env, ALLOWED_FUNCTIONS: '' })).to.deep.include({
      stateFunctions: [],
      extraFunctionArns: [],
    });
  });

  it('fails fast on an allow-list that is unset or has a name pattern', () => {
    const { ALLOWED_FUNCTIONS: _unset, ...withoutList } = env;
    expect(() => readConfig(withoutList)).to.throw('environment variable ALLOWED_FUNCTIONS is not set');
    expect(() => readConfig({ ...env, ALLOWED_FUNCTIONS: 'svc-dev-*' })).to.throw("'svc-dev-*' is a pattern");
  });

  it('never lets the queue delay pass SQS cap', () => {
    expect(readConfig({ ...env, MAX_QUEUE_DELAY_SECONDS: '5000' }).maxQueueDelaySeconds).to.equal(
      SQS_MAX_DELAY_SECONDS,
    );
  });

  it('takes the status index shard count, from 1 to 256', () => {
    expect(readConfig({ ...env, STATUS_SHARDS: '8' }).statusShards).to.equal(8);
    expect(readConfig({ ...env, STATUS_SHARDS: '256' }).statusShards).to.equal(256);
    expect(() => readConfig({ ...env, STATUS_SHARDS: '257' })).to.throw(
      'environment variable STATUS_SHARDS must be at most 256',
    );
    expect(() => readConfig({ ...env, STATUS_SHARDS: '0' })).to.throw('must be a positive integer');
  });

  it("takes the account, region and partition from the running function's ARN, else the region only", () => {
    const config = readConfig({ ...env, AWS_REGION: 'eu-west-1' });
    expect(functionScope(config, 'arn:aws-cn:lambda:cn-north-1:123456789012:function:svc-dev-api')).to.deep.equal({
      servicePrefix: 'svc-dev-',
      stateFunctions: ['svc-dev-prepare', 'svc-dev-noop'],
      extraFunctionArns: [],
      accountId: '123456789012',
      region: 'cn-north-1',
      partition: 'aws-cn',
    });
    for (const scope of [functionScope(config, 'offline_invokedFunctionArn_for_x'), functionScope(config)]) {
      expect(scope).to.not.have.property('accountId');
      expect(scope).to.not.have.property('partition');
      expect(scope.region).to.equal('eu-west-1');
    }
  });
});
