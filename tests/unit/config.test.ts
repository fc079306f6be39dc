import { expect } from 'chai';
import { DEFAULT_LEASE_SECONDS, DEFAULT_STATUS_SHARDS, SQS_MAX_DELAY_SECONDS } from '../../domain/limits';
import { functionScope, invokeTimeoutMs, readConfig } from '../../handlers/config';

const env = {
  SERVICE_PREFIX: 'svc-dev-',
  TABLE_NAME: 'machines',
  HISTORY_TABLE_NAME: 'history',
  QUEUE_URL: 'https://sqs/queue',
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
      allowList: ['svc-dev-*'],
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

  it('adds the extra allowed functions and never lets the queue delay pass SQS cap', () => {
    const config = readConfig({
      ...env,
      ALLOWED_FUNCTIONS: ' billing-* ,, arn:aws:lambda:*',
      MAX_QUEUE_DELAY_SECONDS: '5000',
    });
    expect(config.allowList).to.deep.equal(['svc-dev-*', 'billing-*', 'arn:aws:lambda:*']);
    expect(config.maxQueueDelaySeconds).to.equal(SQS_MAX_DELAY_SECONDS);
  });

  it('takes the status index shard count, from 1 to 256', () => {
    expect(readConfig({ ...env, STATUS_SHARDS: '8' }).statusShards).to.equal(8);
    expect(readConfig({ ...env, STATUS_SHARDS: '256' }).statusShards).to.equal(256);
    expect(() => readConfig({ ...env, STATUS_SHARDS: '257' })).to.throw(
      'environment variable STATUS_SHARDS must be at most 256',
    );
    expect(() => readConfig({ ...env, STATUS_SHARDS: '0' })).to.throw('must be a positive integer');
  });

  it('gives a handler 80 % of the lease, leaving the rest to commit', () => {
    expect(invokeTimeoutMs(readConfig({ ...env, LEASE_SECONDS: '10' }))).to.equal(8000);
  });

  it("takes the account from the running function's ARN", () => {
    const config = readConfig(env);
    expect(functionScope(config, 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-api').accountId).to.equal(
      '123456789012',
    );
    expect(functionScope(config, 'not-an-arn')).to.not.have.property('accountId');
    expect(functionScope(config)).to.not.have.property('accountId');
  });
});
