import { expect } from 'chai';
import {
  createResolver,
  type LocalContext,
  queueDefinitions,
  type Template,
  tableDefinitions,
} from '../src/cloudformation';

const ctx: LocalContext = {
  region: 'eu-west-1',
  accountId: '000000000000',
  stackName: 'svc-dev',
  sqsUrl: 'http://127.0.0.1:9324',
  functions: { WorkLambdaFunction: 'svc-dev-work' },
};

const template: Template = {
  Resources: {
    Jobs: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        QueueName: 'svc-dev-jobs',
        VisibilityTimeout: 30,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dead', 'Arn'] }, maxReceiveCount: 3 },
      },
    },
    Dead: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 1209600 } },
    Items: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'svc-dev-items',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byX',
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
    },
  },
};

describe('cloudformation: resolving intrinsics locally', () => {
  const resolver = createResolver(template, ctx);

  it('resolves Ref and Fn::GetAtt of queues, tables and functions to local values', () => {
    expect(resolver.resolve({ Ref: 'Jobs' })).to.equal('http://127.0.0.1:9324/000000000000/svc-dev-jobs');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Jobs', 'Arn'] })).to.equal(
      'arn:aws:sqs:eu-west-1:000000000000:svc-dev-jobs',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': 'Jobs.QueueName' })).to.equal('svc-dev-jobs');
    expect(resolver.resolve({ Ref: 'Items' })).to.equal('svc-dev-items');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Items', 'Arn'] })).to.equal(
      'arn:aws:dynamodb:eu-west-1:000000000000:table/svc-dev-items',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['WorkLambdaFunction', 'Arn'] })).to.equal(
      'arn:aws:lambda:eu-west-1:000000000000:function:svc-dev-work',
    );
  });

  it('names a queue without QueueName as CloudFormation would (stack-logicalId)', () => {
    expect(resolver.resolve({ Ref: 'Dead' })).to.equal('http://127.0.0.1:9324/000000000000/svc-dev-Dead');
  });

  it('resolves Fn::Join, Fn::Sub (both forms), Fn::Select, Fn::Split and pseudo parameters', () => {
    expect(resolver.resolve({ 'Fn::Join': ['/', [{ 'Fn::GetAtt': ['Items', 'Arn'] }, 'index', 'byX']] })).to.equal(
      'arn:aws:dynamodb:eu-west-1:000000000000:table/svc-dev-items/index/byX',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax
    expect(resolver.resolve({ 'Fn::Sub': '${AWS::Region}/${Jobs.Arn}/${Items}' })).to.equal(
      'eu-west-1/arn:aws:sqs:eu-west-1:000000000000:svc-dev-jobs/svc-dev-items',
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax
    expect(resolver.resolve({ 'Fn::Sub': ['${A}-${AWS::AccountId}', { A: { Ref: 'Items' } }] })).to.equal(
      'svc-dev-items-000000000000',
    );
    expect(resolver.resolve({ 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] })).to.equal('b');
    expect(resolver.resolve({ nested: [{ Ref: 'AWS::StackName' }] })).to.deep.equal({ nested: ['svc-dev'] });
  });

  it('refuses what it cannot emulate, saying what', () => {
    expect(() => resolver.resolve({ Ref: 'Nothing' })).to.throw(/no resource Nothing/);
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).to.throw(/Fn::ImportValue is not supported/);
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Items', 'StreamArn'] })).to.throw(/Items.StreamArn/);
  });

  it('turns tables into CreateTable requests, keeping keys and indexes and dropping what dynalite lacks', () => {
    const [items] = tableDefinitions(template, resolver);
    expect(items).to.deep.equal({
      TableName: 'svc-dev-items',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byX',
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('turns queues into CreateQueue requests, dead-letter queues first, with the redrive policy resolved', () => {
    const queues = queueDefinitions(template, resolver);
    expect(queues.map((q) => q.QueueName)).to.deep.equal(['svc-dev-Dead', 'svc-dev-jobs']);
    expect(queues[1]?.Attributes).to.deep.equal({
      VisibilityTimeout: '30',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:000000000000:svc-dev-Dead',
        maxReceiveCount: 3,
      }),
    });
    expect(queues[0]?.Attributes).to.deep.equal({ MessageRetentionPeriod: '1209600' });
  });
});
