/**
 * The service's own CloudFormation resources, read as a local stack would create them: tables and
 * queues with their names, and the intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, ...)
 * resolved to local values (queue URLs on the SQS emulator, ARNs in the local account).
 */

export type Template = { Resources?: Record<string, Resource> };
export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface LocalContext {
  region: string;
  accountId: string;
  /** `<service>-<stage>`, CloudFormation's AWS::StackName. */
  stackName: string;
  /** The SQS emulator's base URL, e.g. http://127.0.0.1:9324 */
  sqsUrl: string;
  /** Logical id of each function's AWS::Lambda::Function -> its deployed function name. */
  functions: Record<string, string>;
}

export class UnresolvableError extends Error {}

export const tableArn = (ctx: Pick<LocalContext, 'region' | 'accountId'>, table: string) =>
  `arn:aws:dynamodb:${ctx.region}:${ctx.accountId}:table/${table}`;
export const queueArn = (ctx: Pick<LocalContext, 'region' | 'accountId'>, queue: string) =>
  `arn:aws:sqs:${ctx.region}:${ctx.accountId}:${queue}`;
export const functionArn = (ctx: Pick<LocalContext, 'region' | 'accountId'>, name: string) =>
  `arn:aws:lambda:${ctx.region}:${ctx.accountId}:function:${name}`;
export const queueUrl = (ctx: Pick<LocalContext, 'sqsUrl' | 'accountId'>, queue: string) =>
  `${ctx.sqsUrl}/${ctx.accountId}/${queue}`;

/** The name CloudFormation gives a resource with no explicit name (shortened, without the random suffix). */
function physicalName(ctx: LocalContext, logicalId: string, resource: Resource): string {
  const explicit =
    resource.Type === 'AWS::SQS::Queue' ? resource.Properties?.QueueName : resource.Properties?.TableName;
  if (typeof explicit === 'string') return explicit;
  const fifo = resource.Type === 'AWS::SQS::Queue' && isTrue(resource.Properties?.FifoQueue) ? '.fifo' : '';
  return `${ctx.stackName}-${logicalId}${fifo}`;
}

const isTrue = (value: unknown) => value === true || value === 'true';

/** Resolves every intrinsic function in `value` against the template's resources, locally. */
export function createResolver(template: Template, ctx: LocalContext) {
  const resources = template.Resources ?? {};
  const resourceName = (logicalId: string) => {
    const resource = resources[logicalId];
    if (!resource) throw new UnresolvableError(`no resource ${logicalId} in this service`);
    return { resource, name: physicalName(ctx, logicalId, resource) };
  };

  const pseudo: Record<string, string> = {
    'AWS::Region': ctx.region,
    'AWS::AccountId': ctx.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': ctx.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/local`,
    'AWS::NoValue': '',
  };

  function ref(logicalId: string): string {
    if (logicalId in pseudo) return pseudo[logicalId] as string;
    const fn = ctx.functions[logicalId];
    if (fn) return fn;
    const { resource, name } = resourceName(logicalId);
    if (resource.Type === 'AWS::SQS::Queue') return queueUrl(ctx, name);
    if (resource.Type === 'AWS::DynamoDB::Table') return name;
    throw new UnresolvableError(`Ref ${logicalId}: ${resource.Type} is not emulated locally`);
  }

  function getAtt(logicalId: string, attribute: string): string {
    const fn = ctx.functions[logicalId];
    if (fn && attribute === 'Arn') return functionArn(ctx, fn);
    const { resource, name } = resourceName(logicalId);
    if (resource.Type === 'AWS::SQS::Queue') {
      if (attribute === 'Arn') return queueArn(ctx, name);
      if (attribute === 'QueueName') return name;
      if (attribute === 'QueueUrl') return queueUrl(ctx, name);
    }
    if (resource.Type === 'AWS::DynamoDB::Table' && attribute === 'Arn') return tableArn(ctx, name);
    throw new UnresolvableError(`Fn::GetAtt ${logicalId}.${attribute}: not emulated locally`);
  }

  function sub(template: string, vars: Record<string, unknown>): string {
    return template.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
      if (name in vars) return String(resolve(vars[name]));
      const [id, ...attribute] = name.split('.');
      return attribute.length > 0 ? getAtt(id as string, attribute.join('.')) : ref(name);
    });
  }

  function resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined) {
      if (key === 'Ref') return ref(String(arg));
      if (key === 'Fn::GetAtt') {
        const [id, ...attribute] = Array.isArray(arg) ? arg.map(String) : String(arg).split('.');
        return getAtt(id as string, attribute.join('.'));
      }
      if (key === 'Fn::Join') {
        const [delimiter, list] = arg as [string, unknown[]];
        return (resolve(list) as unknown[]).join(delimiter);
      }
      if (key === 'Fn::Sub') {
        return Array.isArray(arg)
          ? sub(String(arg[0]), (arg[1] ?? {}) as Record<string, unknown>)
          : sub(String(arg), {});
      }
      if (key === 'Fn::Select') {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list) as unknown[])[Number(resolve(index))];
      }
      if (key === 'Fn::Split') {
        const [delimiter, source] = arg as [string, unknown];
        return String(resolve(source)).split(delimiter);
      }
      if (key.startsWith('Fn::') || key === 'Condition') {
        throw new UnresolvableError(`${key} is not supported locally`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  }

  return { resolve, ref, getAtt, physicalName: (logicalId: string) => resourceName(logicalId).name };
}

export type Resolver = ReturnType<typeof createResolver>;

const TABLE_PROPERTIES = [
  'AttributeDefinitions',
  'KeySchema',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
  'BillingMode',
  'ProvisionedThroughput',
  'StreamSpecification',
] as const;

/** CreateTable requests for the template's AWS::DynamoDB::Table resources. */
export function tableDefinitions(template: Template, resolver: Resolver): Record<string, unknown>[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, r]) => {
      const props = resolver.resolve(r.Properties ?? {}) as Record<string, unknown>;
      const request: Record<string, unknown> = { TableName: resolver.physicalName(logicalId) };
      for (const key of TABLE_PROPERTIES) if (props[key] !== undefined) request[key] = props[key];
      const onDemand = props.BillingMode === 'PAY_PER_REQUEST';
      if (!onDemand && !request.ProvisionedThroughput) request.BillingMode = 'PAY_PER_REQUEST';
      if (onDemand && Array.isArray(request.GlobalSecondaryIndexes)) {
        request.GlobalSecondaryIndexes = request.GlobalSecondaryIndexes.map(
          ({ ProvisionedThroughput: _, ...index }: Record<string, unknown>) => index,
        );
      }
      if (request.StreamSpecification && !(request.StreamSpecification as { StreamViewType?: string }).StreamViewType) {
        delete request.StreamSpecification;
      } else if (request.StreamSpecification) {
        request.StreamSpecification = { StreamEnabled: true, ...(request.StreamSpecification as object) };
      }
      return request;
    });
}

const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

export interface QueueDefinition {
  logicalId: string;
  QueueName: string;
  Attributes: Record<string, string>;
  /** Logical ids of queues this one redrives to (created first). */
  dependsOn: string[];
}

/** CreateQueue requests for the template's AWS::SQS::Queue resources, dead-letter queues first. */
export function queueDefinitions(template: Template, resolver: Resolver): QueueDefinition[] {
  const all = Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::SQS::Queue')
    .map(([logicalId, r]): QueueDefinition => {
      const props = r.Properties ?? {};
      const resolved = resolver.resolve(props) as Record<string, unknown>;
      const Attributes: Record<string, string> = {};
      for (const key of QUEUE_ATTRIBUTES) {
        const value = resolved[key];
        if (value === undefined) continue;
        Attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
      }
      const dependsOn = JSON.stringify(props.RedrivePolicy ?? {}).match(/"Fn::GetAtt":\["?([A-Za-z0-9]+)/);
      return {
        logicalId,
        QueueName: resolver.physicalName(logicalId),
        Attributes,
        dependsOn: dependsOn?.[1] ? [dependsOn[1]] : [],
      };
    });
  const ordered: QueueDefinition[] = [];
  const visit = (queue: QueueDefinition, path: string[]) => {
    if (ordered.includes(queue)) return;
    if (path.includes(queue.logicalId)) throw new UnresolvableError(`redrive cycle: ${path.join(' -> ')}`);
    for (const id of queue.dependsOn) {
      const target = all.find((q) => q.logicalId === id);
      if (target) visit(target, [...path, queue.logicalId]);
    }
    ordered.push(queue);
  };
  for (const queue of all) visit(queue, []);
  return ordered;
}
