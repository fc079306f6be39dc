import type { LocalContext, Resolver, Template } from './cloudformation';
import { LOCAL_CREDENTIALS } from './credentials';
import type { Serverless } from './framework';
import { PLUGIN, positive, type Settings } from './options';

type Service = Serverless['service'];

/** Each function's IAM statements, resources resolved to local ARNs. */
export type IamStatements = Record<
  string,
  { Effect: string; Action: string | string[]; Resource: string | string[] }[]
>;

export interface SqsEventSource {
  functionKey: string;
  queueName: string;
  batchSize: number;
  batchingWindowSeconds: number;
  maximumConcurrency?: number;
  reportBatchItemFailures: boolean;
}

/**
 * serverless-offline cannot check an AWS_IAM route and refuses to start with one, so under
 * `sls offline start` (its offline:start:init hook, not a word of the command line) the httpApi
 * events lose their authorizers before it reads them; `--apiAuth iam` puts this plugin's SigV4
 * front in their place.
 */
export function dropAuthorizers(service: Pick<Service, 'getAllFunctions' | 'getFunction' | 'provider'>) {
  for (const key of service.getAllFunctions()) {
    for (const event of service.getFunction(key).events ?? []) {
      const httpApi = event.httpApi as Record<string, unknown> | undefined;
      if (httpApi && typeof httpApi === 'object') delete httpApi.authorizer;
    }
  }
  delete service.provider.httpApi?.authorizers;
}

/** Where serverless-esbuild writes the bundles the functions run from. */
export function bundleDir(serverless: Serverless): string {
  const bundler = serverless.pluginManager?.plugins.find(
    (plugin) => plugin.constructor.name === 'EsbuildServerlessPlugin',
  ) as { buildDirPath?: string } | undefined;
  return bundler?.buildDirPath ?? serverless.config.servicePath;
}

export function template(service: Service): Template {
  const { resources } = service;
  const parts = Array.isArray(resources) ? resources : resources ? [resources] : [];
  return { Resources: Object.assign({}, ...parts.map((part) => part?.Resources ?? {})) };
}

export function outputs(service: Service): Record<string, { Value: unknown }> {
  const { resources } = service;
  const parts = (Array.isArray(resources) ? resources : resources ? [resources] : []) as {
    Outputs?: Record<string, { Value: unknown }>;
  }[];
  return Object.assign({}, ...parts.map((part) => part?.Outputs ?? {}));
}

export function functionName(serverless: Serverless, key: string): string {
  return (
    serverless.service.getFunction(key).name ??
    `${serverless.service.service}-${serverless.getProvider('aws').getStage()}-${key}`
  );
}

export function localContext(serverless: Serverless, settings: Settings): LocalContext {
  const aws = serverless.getProvider('aws');
  const functions: Record<string, string> = {};
  for (const key of serverless.service.getAllFunctions()) {
    functions[aws.naming.getLambdaLogicalId(key)] = functionName(serverless, key);
  }
  return {
    region: settings.region,
    accountId: settings.accountId,
    stackName: `${serverless.service.service}-${settings.stage}`,
    sqsUrl: `http://${settings.host}:${settings.ports.sqs}`,
    functions,
  };
}

/**
 * Each function's IAM statements (serverless-iam-roles-per-function's `iamRoleStatements`, else
 * provider.iam.role.statements), resources resolved to local ARNs, plus the SQS poller statement.
 */
export function iamStatements(service: Service, resolver: Resolver, keys: string[]): IamStatements {
  const shared = service.provider.iam?.role?.statements ?? [];
  const resolveOrKeep = (value: unknown) => {
    try {
      return resolver.resolve(value);
    } catch {
      return value;
    }
  };
  return Object.fromEntries(
    keys.map((key) => {
      const fn = service.getFunction(key);
      const statements = resolveOrKeep(fn.iamRoleStatements ?? shared) as IamStatements[string];
      // What the framework (and serverless-iam-roles-per-function) adds to the role of a function
      // with sqs events: Lambda's pollers receive and delete with the function's own role.
      const queues = (fn.events ?? []).flatMap((event) => {
        const sqs = event.sqs as { arn?: unknown } | string | undefined;
        if (!sqs || (typeof sqs === 'object' && (sqs as { enabled?: unknown }).enabled === false)) return [];
        return [String(resolveOrKeep(typeof sqs === 'string' ? sqs : sqs.arn))];
      });
      const poller = queues.length
        ? [
            {
              Effect: 'Allow',
              Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
              Resource: queues,
            },
          ]
        : [];
      return [key, [...[statements].flat(), ...poller]];
    }),
  );
}

/** Each function's emulated concurrency: the smaller of its reservedConcurrency and the plugin's cap. */
export function concurrencyCaps(
  serverless: Serverless,
  keys: string[],
  cap: number | undefined,
): (functionName: string) => number | undefined {
  const caps = new Map<string, number>();
  for (const key of keys) {
    const reserved = positive(serverless.service.getFunction(key).reservedConcurrency);
    const limit = Math.min(reserved ?? Number.POSITIVE_INFINITY, cap ?? Number.POSITIVE_INFINITY);
    if (Number.isFinite(limit)) caps.set(functionName(serverless, key), limit);
  }
  return (name) => caps.get(name);
}

/**
 * What every function gets, whatever the stage: the emulators' endpoints for the SDK's standard
 * AWS_ENDPOINT_URL_* variables, dummy credentials, the region, its own key as the SDK's app id
 * (so the request log knows who called), and CloudFormation intrinsics in environment values
 * resolved to local values.
 */
export function injectEnvironment(service: Service, settings: Settings, resolver: Resolver, keys: string[]): void {
  const { host, ports, region } = settings;
  const provider = service.provider;
  const resolveAll = (env: Record<string, unknown> | undefined, where: string) =>
    Object.fromEntries(
      Object.entries(env ?? {}).map(([name, value]) => {
        if (value === null || typeof value !== 'object') return [name, value];
        try {
          return [name, String(resolver.resolve(value))];
        } catch (error) {
          throw new Error(
            `${PLUGIN}: cannot resolve ${where}.environment.${name} locally: ${(error as Error).message}`,
          );
        }
      }),
    );
  provider.environment = {
    ...resolveAll(provider.environment, 'provider'),
    AWS_ENDPOINT_URL_DYNAMODB: `http://${host}:${ports.dynamodb}`,
    AWS_ENDPOINT_URL_SQS: `http://${host}:${ports.sqs}`,
    AWS_ENDPOINT_URL_LAMBDA: `http://${host}:${ports.lambda}`,
    AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'false',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
  };
  for (const key of keys) {
    const fn = service.getFunction(key);
    fn.environment = { ...resolveAll(fn.environment, `functions.${key}`), AWS_SDK_UA_APP_ID: key };
  }
}

export function sqsEventSources(
  service: Service,
  resolver: Resolver,
  warn: (message: string) => void,
): SqsEventSource[] {
  const sources: SqsEventSource[] = [];
  for (const functionKey of service.getAllFunctions()) {
    for (const event of service.getFunction(functionKey).events ?? []) {
      const sqs = event.sqs as Record<string, unknown> | string | undefined;
      if (!sqs) continue;
      const spec = typeof sqs === 'string' ? { arn: sqs } : sqs;
      if (spec.enabled === false) continue;
      const arn = String(resolver.resolve(spec.arn));
      sources.push({
        functionKey,
        queueName: arn.slice(arn.lastIndexOf(':') + 1),
        batchSize: Number(spec.batchSize ?? 10),
        batchingWindowSeconds: Number(spec.maximumBatchingWindow ?? 0),
        ...(spec.maximumConcurrency ? { maximumConcurrency: Number(spec.maximumConcurrency) } : {}),
        reportBatchItemFailures: spec.functionResponseType === 'ReportBatchItemFailures',
      });
      if (spec.filterPatterns) warn(`filterPatterns of ${functionKey}'s sqs event are not applied locally`);
    }
  }
  return sources;
}

/** Functions with an enabled `schedule` event. */
export function scheduledFunctions(service: Service): string[] {
  return service
    .getAllFunctions()
    .filter((key) =>
      (service.getFunction(key).events ?? []).some(
        (event) =>
          event.schedule !== undefined &&
          (typeof event.schedule !== 'object' || (event.schedule as { enabled?: unknown }).enabled !== false),
      ),
    );
}
