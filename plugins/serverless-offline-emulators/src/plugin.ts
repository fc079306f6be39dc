import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import diagnosticsChannel from 'node:diagnostics_channel';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server } from 'node:http';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  createResolver,
  functionArn,
  type LocalContext,
  queueArn,
  queueDefinitions,
  type Resolver,
  type Template,
  tableDefinitions,
} from './cloudformation';
import { LOCAL_CREDENTIALS } from './credentials';
import { reportMetrics } from './emf';
import type { EmulatorConfig, EventSourceSpec, FromWorker, ToWorker } from './emulatorWorker';
import { type ApiAuth, apiAuthLine, parseApiAuth, parseCorsOrigins, startHttpFront } from './httpFront';
import { scopeEnvPerInvocation } from './invocationEnv';
import { startLambdaFront } from './lambdaFront';
import { correctOfflineRunner, forgetBundles } from './offlineRunner';
import { jsonlRecorder, type Recorder } from './recorder';
import { close, freePort } from './servers';

const PLUGIN = 'serverless-offline-emulators';
const EVENT_SOURCE_AGENT = 'serverless-offline-emulators-sqs-event-source';
/** local-aws-sqs's account id; the account in every local ARN. */
const DEFAULT_ACCOUNT = '000000000000';

/** `custom.serverless-offline-emulators` in serverless.yml (every key optional). */
export interface PluginConfig {
  host?: string;
  accountId?: string;
  /** unprocessedTries: a test option (also SLS_OFFLINE_DYNAMODB_UNPROCESSED), see src/dynamodb.ts. */
  dynamodb?: { port?: number | string; unprocessedTries?: number | string };
  sqs?: { port?: number | string };
  /** Concurrent invocations of an SQS-triggered function whose event has no maximumConcurrency. */
  pollers?: number | string;
  /** Keep DynamoDB's data and the queued messages across restarts (also `--persist`). */
  persist?: boolean | string;
  /** Where persisted data lives, relative to the service (default `.local-data`; also `--dataDir`). */
  dataDir?: string;
  /** Append every AWS request the functions make to this JSON Lines file (also `--requestLog`). */
  requestLog?: string;
  /** Point `sls invoke local` at the emulators (default true). */
  invokeLocal?: boolean | string;
  /** Once ready, write what a client needs (endpoints, resolved environment and Outputs) to this JSON file. */
  stackInfo?: string;
  /**
   * Emulated Lambda throttling: the most synchronous invokes (through the Lambda endpoint) of any one
   * function in flight at once; one more is answered 429 TooManyRequestsException, as Lambda does.
   * Also `--invokeConcurrency` or SLS_OFFLINE_INVOKE_CONCURRENCY. A function's own
   * `reservedConcurrency` caps it too. Default: no cap.
   */
  invokeConcurrency?: number | string;
  /**
   * How the HTTP API authenticates callers (also `--apiAuth`): `none` (default, open) or `iam`: every
   * request must be SigV4-signed with the local credentials, as for an AWS_IAM route, else 403.
   */
  apiAuth?: string;
  /**
   * Origins (e.g. `http://localhost:5173`) whose web pages may call the HTTP API (also
   * `--corsOrigins a,b`): they get CORS headers; any other gets none, as from an HTTP API without
   * CORS. Default: none.
   */
  corsOrigins?: string[] | string;
  /**
   * Seconds between the lines summing up the EMF metrics the functions printed, each printed only
   * when new metrics came in (also `--metricsInterval`); 0 turns the line off. Default 10.
   */
  metricsInterval?: number | string;
  /** Printed under the endpoints once everything is up; `{api}` is the HTTP API's URL. */
  readyMessage?: string;
}

interface FunctionDefinition {
  name?: string;
  /** Lambda's RecursiveLoop: `Allow` turns its recursive loop detection off for the function. */
  recursiveLoop?: string;
  reservedConcurrency?: number | string;
  iamRoleStatements?: unknown[];
  handler?: string;
  environment?: Record<string, unknown>;
  events?: Record<string, unknown>[];
}

interface Serverless {
  service: {
    service: string;
    custom?: Record<string, unknown>;
    provider: {
      environment?: Record<string, unknown>;
      stage?: string;
      region?: string;
      iam?: { role?: { statements?: unknown[] } };
      httpApi?: { authorizers?: unknown };
    };
    resources?: Template | Template[];
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
  config: { servicePath: string };
  pluginManager?: { plugins: object[] };
  processedInput?: { commands?: string[] };
  getProvider(name: 'aws'): {
    getStage(): string;
    getRegion(): string;
    naming: { getLambdaLogicalId(key: string): string };
  };
}

interface Log {
  (message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  error(message: string): void;
}

type CliOptions = Record<string, unknown>;

const asBool = (value: unknown) => value === true || value === 'true';
/** A positive number, or undefined for absent, empty or anything else. */
const positive = (value: unknown): number | undefined => {
  const n = value === undefined || value === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/**
 * serverless-offline cannot check an AWS_IAM route and refuses to start with one, so under
 * `sls offline start` (its offline:start:init hook, not a word of the command line) the httpApi
 * events lose their authorizers before it reads them; `--apiAuth iam` puts this plugin's SigV4
 * front in their place.
 */
export function dropAuthorizers(service: Pick<Serverless['service'], 'getAllFunctions' | 'getFunction' | 'provider'>) {
  for (const key of service.getAllFunctions()) {
    for (const event of service.getFunction(key).events ?? []) {
      const httpApi = event.httpApi as Record<string, unknown> | undefined;
      if (httpApi && typeof httpApi === 'object') delete httpApi.authorizer;
    }
  }
  delete service.provider.httpApi?.authorizers;
}

/** What `--stackInfo <file>` writes once the stack is ready. */
export interface StackInfo {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  endpoints: { http: string; lambda: string; dynamodb: string; sqs: string };
  /** How the HTTP API authenticates: open, or SigV4 of the local credentials (`--apiAuth iam`). */
  apiAuth: ApiAuth;
  /** provider.environment as the functions get it locally (intrinsics resolved). */
  environment: Record<string, string>;
  /** The template's Outputs that resolve locally. */
  outputs: Record<string, string>;
  /** Function key -> deployed name. */
  functions: Record<string, string>;
  /** Queue name -> local URL. */
  queues: Record<string, string>;
  tables: string[];
  /**
   * Each function's IAM statements (serverless-iam-roles-per-function's `iamRoleStatements`, else
   * provider.iam.role.statements), resources resolved to local ARNs, plus the SQS poller statement
   * the framework adds for `sqs` events: with the request log, what an IAM policy check needs.
   */
  iam: Record<string, { Effect: string; Action: string | string[]; Resource: string | string[] }[]>;
  pid: number;
}

interface SqsEventSource {
  functionKey: string;
  queueName: string;
  batchSize: number;
  batchingWindowSeconds: number;
  maximumConcurrency?: number;
  reportBatchItemFailures: boolean;
}

/**
 * `sls offline start` as the whole local stack: DynamoDB and SQS emulators in this process, the
 * service's tables and queues created from its own CloudFormation resources, every function
 * pointed at them, an SQS event source for every `sqs` event, a Lambda endpoint that takes ARNs,
 * and (optionally) a log of every AWS request the functions make.
 */
export class ServerlessOfflineEmulators {
  readonly commands = {
    offline: {
      commands: {
        start: {
          options: {
            persist: { usage: 'Keep DynamoDB data and queued messages across restarts', type: 'boolean' },
            dataDir: { usage: 'Folder for persisted data (default .local-data)', type: 'string' },
            dynamodbPort: { usage: 'Port of the DynamoDB emulator (default 4567)', type: 'string' },
            sqsPort: { usage: 'Port of the SQS emulator (default 9324)', type: 'string' },
            requestLog: { usage: 'Append every AWS request the functions make to this JSONL file', type: 'string' },
            invokeConcurrency: {
              usage: 'Answer 429 TooManyRequestsException to invokes of a function past this many in flight',
              type: 'string',
            },
            stackInfo: {
              usage: 'Once ready, write the endpoints, environment and outputs to this JSON file',
              type: 'string',
            },
            apiAuth: {
              usage: 'none (default): the HTTP API is open; iam: it requires SigV4 signatures of the local credentials',
              type: 'string',
            },
            corsOrigins: {
              usage: 'Comma-separated origins whose web pages may call the HTTP API (CORS); default none',
              type: 'string',
            },
            metricsInterval: {
              usage: 'Seconds between lines summing up the EMF metrics the functions print (default 10; 0: off)',
              type: 'string',
            },
          },
        },
      },
    },
  };

  readonly hooks: Record<string, () => Promise<void>>;

  private readonly stoppers: (() => Promise<void>)[] = [];
  private stopped = false;
  private readonly startedAt = Date.now();
  private banner: string[] = [];
  private info: StackInfo | undefined;

  constructor(
    private readonly serverless: Serverless,
    private readonly options: CliOptions,
    private readonly utils: { log: Log; writeText?: (text: string) => void } = {
      log: Object.assign((m: string) => console.log(m), {
        notice: console.log,
        warning: console.warn,
        info: console.log,
        error: console.error,
      }) as Log,
    },
  ) {
    this.hooks = {
      'offline:start:init': () => this.start(),
      'offline:start:ready': () => this.ready(),
      'offline:start:end': () => this.stop(),
      // serverless-esbuild rebuilt the bundles after a save: the next invocation loads them.
      'before:offline:functionsUpdated:cleanup': async () => {
        forgetBundles(this.bundleDir());
      },
      // Before osls's own invoke-local plugin resolves the environment (it would ask CloudFormation).
      initialize: async () => {
        const commands = this.serverless.processedInput?.commands ?? [];
        if (commands[0] === 'invoke' && commands[1] === 'local') this.pointInvokeLocalAtEmulators();
      },
    };
  }

  /** Where serverless-esbuild writes the bundles the functions run from. */
  private bundleDir(): string {
    const bundler = this.serverless.pluginManager?.plugins.find(
      (plugin) => plugin.constructor.name === 'EsbuildServerlessPlugin',
    ) as { buildDirPath?: string } | undefined;
    return bundler?.buildDirPath ?? this.serverless.config.servicePath;
  }

  private get config(): PluginConfig {
    return (this.serverless.service.custom?.[PLUGIN] ?? {}) as PluginConfig;
  }

  private get offlineConfig(): Record<string, unknown> {
    return (this.serverless.service.custom?.['serverless-offline'] ?? {}) as Record<string, unknown>;
  }

  private settings() {
    const { config, options } = this;
    const aws = this.serverless.getProvider('aws');
    const host = String(options.host ?? this.offlineConfig.host ?? config.host ?? '127.0.0.1');
    const dataDir = String(options.dataDir ?? config.dataDir ?? '.local-data');
    const servicePath = this.serverless.config.servicePath;
    const requestLog = (options.requestLog ?? config.requestLog ?? process.env.SLS_OFFLINE_REQUEST_LOG) as
      | string
      | undefined;
    return {
      host,
      region: aws.getRegion(),
      stage: aws.getStage(),
      accountId: String(config.accountId ?? DEFAULT_ACCOUNT),
      ports: {
        http: Number(options.httpPort ?? this.offlineConfig.httpPort ?? 3000),
        lambda: Number(options.lambdaPort ?? this.offlineConfig.lambdaPort ?? 3002),
        dynamodb: Number(options.dynamodbPort ?? config.dynamodb?.port ?? 4567),
        sqs: Number(options.sqsPort ?? config.sqs?.port ?? 9324),
      },
      persist: asBool(options.persist) || asBool(config.persist),
      dataDir: isAbsolute(dataDir) ? dataDir : join(servicePath, dataDir),
      requestLog: requestLog ? resolve(requestLog) : undefined,
      pollers: Number(config.pollers ?? 8),
      unprocessedTries: positive(process.env.SLS_OFFLINE_DYNAMODB_UNPROCESSED ?? config.dynamodb?.unprocessedTries),
      invokeConcurrency: positive(
        options.invokeConcurrency ?? process.env.SLS_OFFLINE_INVOKE_CONCURRENCY ?? config.invokeConcurrency,
      ),
      apiAuth: parseApiAuth(options.apiAuth ?? config.apiAuth),
      corsOrigins: parseCorsOrigins(options.corsOrigins ?? config.corsOrigins),
      metricsIntervalMs: (positive(options.metricsInterval ?? config.metricsInterval ?? 10) ?? 0) * 1000,
    };
  }

  private template(): Template {
    const { resources } = this.serverless.service;
    const parts = Array.isArray(resources) ? resources : resources ? [resources] : [];
    return { Resources: Object.assign({}, ...parts.map((part) => part?.Resources ?? {})) };
  }

  private iamStatements(resolver: Resolver, keys: string[]): StackInfo['iam'] {
    const shared = this.serverless.service.provider.iam?.role?.statements ?? [];
    const resolveOrKeep = (value: unknown) => {
      try {
        return resolver.resolve(value);
      } catch {
        return value;
      }
    };
    return Object.fromEntries(
      keys.map((key) => {
        const fn = this.serverless.service.getFunction(key);
        const statements = resolveOrKeep(fn.iamRoleStatements ?? shared) as StackInfo['iam'][string];
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

  private outputs(): Record<string, { Value: unknown }> {
    const { resources } = this.serverless.service;
    const parts = (Array.isArray(resources) ? resources : resources ? [resources] : []) as {
      Outputs?: Record<string, { Value: unknown }>;
    }[];
    return Object.assign({}, ...parts.map((part) => part?.Outputs ?? {}));
  }

  private localContext(settings: ReturnType<ServerlessOfflineEmulators['settings']>): LocalContext {
    const aws = this.serverless.getProvider('aws');
    const functions: Record<string, string> = {};
    for (const key of this.serverless.service.getAllFunctions()) {
      functions[aws.naming.getLambdaLogicalId(key)] = this.functionName(key);
    }
    return {
      region: settings.region,
      accountId: settings.accountId,
      stackName: `${this.serverless.service.service}-${settings.stage}`,
      sqsUrl: `http://${settings.host}:${settings.ports.sqs}`,
      functions,
    };
  }

  /** Each function's emulated concurrency: the smaller of its reservedConcurrency and the plugin's cap. */
  private concurrencyCaps(keys: string[], cap: number | undefined): (functionName: string) => number | undefined {
    const caps = new Map<string, number>();
    for (const key of keys) {
      const reserved = positive(this.serverless.service.getFunction(key).reservedConcurrency);
      const limit = Math.min(reserved ?? Number.POSITIVE_INFINITY, cap ?? Number.POSITIVE_INFINITY);
      if (Number.isFinite(limit)) caps.set(this.functionName(key), limit);
    }
    return (functionName) => caps.get(functionName);
  }

  private functionName(key: string): string {
    return (
      this.serverless.service.getFunction(key).name ??
      `${this.serverless.service.service}-${this.serverless.getProvider('aws').getStage()}-${key}`
    );
  }

  /**
   * What every function gets, whatever the stage: the emulators' endpoints for the SDK's standard
   * AWS_ENDPOINT_URL_* variables, dummy credentials, the region, its own key as the SDK's app id
   * (so the request log knows who called), and CloudFormation intrinsics in environment values
   * resolved to local values.
   */
  private injectEnvironment(
    settings: ReturnType<ServerlessOfflineEmulators['settings']>,
    resolver: Resolver,
    keys: string[],
  ): void {
    const { host, ports, region } = settings;
    const provider = this.serverless.service.provider;
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
      const fn = this.serverless.service.getFunction(key);
      fn.environment = { ...resolveAll(fn.environment, `functions.${key}`), AWS_SDK_UA_APP_ID: key };
    }
  }

  private sqsEventSources(resolver: Resolver): SqsEventSource[] {
    const sources: SqsEventSource[] = [];
    for (const functionKey of this.serverless.service.getAllFunctions()) {
      for (const event of this.serverless.service.getFunction(functionKey).events ?? []) {
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
        if (spec.filterPatterns) {
          this.utils.log.warning(`${PLUGIN}: filterPatterns of ${functionKey}'s sqs event are not applied locally`);
        }
      }
    }
    return sources;
  }

  /** Functions with an enabled `schedule` event. */
  private scheduledFunctions(): string[] {
    return this.serverless.service
      .getAllFunctions()
      .filter((key) =>
        (this.serverless.service.getFunction(key).events ?? []).some(
          (event) =>
            event.schedule !== undefined &&
            (typeof event.schedule !== 'object' || (event.schedule as { enabled?: unknown }).enabled !== false),
        ),
      );
  }

  /** Invokes a function as EventBridge Scheduler does (an event, asynchronously); a failure is a warning. */
  private async invokeScheduled(lambdaUrl: string, functionName: string, arns: { region: string; accountId: string }) {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: arns.accountId,
      time: new Date().toISOString(),
      region: arns.region,
      resources: [],
      detail: {},
    };
    try {
      const response = await fetch(`${lambdaUrl}/2015-03-31/functions/${functionName}/invocations`, {
        method: 'POST',
        body: JSON.stringify(event),
      });
      const body = await response.text();
      if (!response.ok || response.headers.get('x-amz-function-error')) {
        this.utils.log.warning(`${PLUGIN}: scheduled ${functionName} failed at start: ${body.slice(0, 500)}`);
      }
    } catch (error) {
      this.utils.log.warning(`${PLUGIN}: scheduled ${functionName} failed at start: ${(error as Error).message}`);
    }
  }

  async start(): Promise<void> {
    await correctOfflineRunner();
    dropAuthorizers(this.serverless.service);
    const settings = this.settings();
    const { host, ports, region, accountId } = settings;
    const ctx = this.localContext(settings);
    const template = this.template();
    const resolver = createResolver(template, ctx);
    const recorder: Recorder | undefined = settings.requestLog ? jsonlRecorder(settings.requestLog) : undefined;
    const keys = this.serverless.service.getAllFunctions();
    const arns = { region, accountId };

    try {
      // DynamoDB, SQS and the event sources, on a thread of their own (see emulatorWorker.ts).
      const queues = queueDefinitions(template, resolver);
      const dynamodbUrl = `http://${host}:${ports.dynamodb}`;
      const sqsUrl = `http://${host}:${ports.sqs}`;
      const {
        tables,
        queueUrls: urlsByName,
        restored,
      } = await this.startEmulators({
        host,
        region,
        accountId,
        ports: { dynamodb: ports.dynamodb, sqs: ports.sqs },
        ...(settings.persist
          ? {
              dynamoPath: join(settings.dataDir, 'dynamodb'),
              journalFile: join(settings.dataDir, 'sqs-journal.jsonl'),
            }
          : {}),
        ...(settings.requestLog ? { requestLog: settings.requestLog } : {}),
        ...(settings.unprocessedTries ? { unprocessedTries: settings.unprocessedTries } : {}),
        tables: tableDefinitions(template, resolver),
        queues,
        eventSourceAgent: EVENT_SOURCE_AGENT,
      });
      if (settings.persist) await mkdir(settings.dataDir, { recursive: true });

      // Lambda: serverless-offline listens on a port of our choosing; the front takes the public one.
      const offlineLambdaPort = await freePort(host);
      this.options.lambdaPort = String(offlineLambdaPort);
      const front = await startLambdaFront({
        port: ports.lambda,
        host,
        target: { host, port: offlineLambdaPort },
        functionNames: new Set(keys.map((key) => this.functionName(key))),
        concurrency: this.concurrencyCaps(keys, settings.invokeConcurrency),
        ...arns,
        ...(recorder ? { recorder } : {}),
      });
      this.stoppers.push(() => close(front.server));

      // The HTTP API: serverless-offline listens on a port of our choosing and the front takes the
      // public one, for CORS as the deployed API has it and, with IAM auth, SigV4 (src/httpFront.ts).
      this.apiUrl = `http://${host}:${ports.http}`;
      const offlineHttpPort = await freePort(host);
      this.options.httpPort = String(offlineHttpPort);
      const httpFront = await startHttpFront({
        port: ports.http,
        host,
        target: { host, port: offlineHttpPort },
        region,
        accountId,
        auth: settings.apiAuth,
        credentials: LOCAL_CREDENTIALS,
        corsOrigins: settings.corsOrigins,
        onRefused: (method, path, reason) => this.utils.log.notice(`${PLUGIN}: 403 ${method} ${path}: ${reason}`),
      });
      this.stoppers.push(() => close(httpFront.server));

      // The functions run in this process and print their EMF metrics to its stdout.
      if (settings.metricsIntervalMs > 0) {
        const metrics = reportMetrics(process.stdout, {
          intervalMs: settings.metricsIntervalMs,
          print: (line) => this.print(line),
        });
        this.stoppers.push(async () => metrics.stop());
      }

      this.injectEnvironment(settings, resolver, keys);
      // Lambda's per-invocation trace header: the event sources send it with each invoke (its
      // lineage counts the chain's invocations); an invocation's SDK clients read it from
      // _X_AMZN_TRACE_ID and send it on with every request, so SQS keeps it with each message.
      const traces = new AsyncLocalStorage<{ trace?: string }>();
      const onRequest = (message: unknown) => {
        const { request, server } = message as { request: IncomingMessage; server: Server };
        const address = server.address();
        if (typeof address !== 'object' || address?.port !== offlineLambdaPort) return;
        const header = request.headers['x-amzn-trace-id'];
        traces.enterWith(typeof header === 'string' ? { trace: header } : {});
      };
      diagnosticsChannel.subscribe('http.server.request.start', onRequest);
      this.stoppers.push(async () => {
        diagnosticsChannel.unsubscribe('http.server.request.start', onRequest);
      });
      const unscopeEnv = scopeEnvPerInvocation(['AWS_SDK_UA_APP_ID'], {
        _X_AMZN_TRACE_ID: () => traces.getStore()?.trace,
      });
      this.stoppers.push(async () => unscopeEnv());

      // The event sources start once serverless-offline listens (offline:start:ready).
      const sources = this.sqsEventSources(resolver);
      this.pendingEventSources = () =>
        this.worker?.postMessage({
          type: 'startEventSources',
          sources: sources.map((source): EventSourceSpec => {
            const functionName = this.functionName(source.functionKey);
            return {
              queueName: source.queueName,
              region,
              sqsEndpoint: sqsUrl,
              lambdaEndpoint: `http://${host}:${offlineLambdaPort}`,
              queueArn: queueArn(arns, source.queueName),
              functionKey: source.functionKey,
              functionName,
              functionArn: functionArn(arns, functionName),
              credentials: LOCAL_CREDENTIALS,
              batchSize: source.batchSize,
              batchingWindowSeconds: source.batchingWindowSeconds,
              pollers: source.maximumConcurrency ?? settings.pollers,
              reportBatchItemFailures: source.reportBatchItemFailures,
              recursiveLoop:
                this.serverless.service.getFunction(source.functionKey).recursiveLoop === 'Allow'
                  ? 'Allow'
                  : 'Terminate',
              userAgent: EVENT_SOURCE_AGENT,
            };
          }),
        } satisfies ToWorker);

      // serverless-offline runs `schedule` events on their schedule (minutes apart); once at the
      // start too, so what a schedule does after a crash happens at the restart, not a period later.
      this.pendingSchedules = () => {
        for (const key of this.scheduledFunctions()) {
          void this.invokeScheduled(`http://${host}:${offlineLambdaPort}`, this.functionName(key), arns);
        }
      };

      const outputs: Record<string, string> = {};
      for (const [name, output] of Object.entries(this.outputs())) {
        try {
          outputs[name] = String(resolver.resolve(output.Value));
        } catch {
          // an output of something not emulated (e.g. the HTTP API's URL)
        }
      }
      this.info = {
        service: this.serverless.service.service,
        stage: settings.stage,
        region,
        accountId,
        endpoints: {
          http: this.apiUrl,
          lambda: front.url,
          dynamodb: dynamodbUrl,
          sqs: sqsUrl,
        },
        apiAuth: settings.apiAuth,
        environment: Object.fromEntries(
          Object.entries(this.serverless.service.provider.environment ?? {}).map(([k, v]) => [k, String(v)]),
        ),
        outputs,
        functions: Object.fromEntries(keys.map((key) => [key, this.functionName(key)])),
        queues: urlsByName,
        tables,
        iam: this.iamStatements(resolver, keys),
        pid: process.pid,
      };

      const stored = settings.persist ? `data in ${settings.dataDir}` : 'in memory';
      const sourcesText = sources
        .map((s) => `${s.functionKey} <- ${s.queueName} (${s.maximumConcurrency ?? settings.pollers} at once)`)
        .join(', ');
      this.banner = [
        `  API        ${this.apiUrl}`,
        `  Auth       ${apiAuthLine(settings.apiAuth, region, LOCAL_CREDENTIALS)}`,
        `  CORS       ${settings.corsOrigins.length > 0 ? `for ${settings.corsOrigins.join(', ')} only` : 'none, as the deployed API (--corsOrigins lists origins whose pages may call it)'}`,
        `  DynamoDB   ${dynamodbUrl} (dynalite, ${stored}; tables ${tables.join(', ')}${settings.unprocessedTries ? `; every batch left unprocessed ${settings.unprocessedTries}x first` : ''})`,
        `  SQS        ${sqsUrl} (local-aws-sqs; queues ${queues.map((q) => q.QueueName).join(', ')}${restored ? `; ${restored} message(s) restored` : ''})`,
        `  Lambda     ${front.url} (serverless-offline; names, ARNs and partial ARNs${settings.invokeConcurrency ? `; ${settings.invokeConcurrency} concurrent invokes per function` : ''})`,
        ...(sourcesText ? [`  Triggers   ${sourcesText}`] : []),
        ...(settings.requestLog ? [`  Requests   logged to ${settings.requestLog}`] : []),
        `  Metrics    ${settings.metricsIntervalMs > 0 ? `the functions' EMF metrics summed up every ${settings.metricsIntervalMs / 1000} s when they change` : 'not summed up (--metricsInterval 0)'}`,
      ];
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The HTTP API's public URL (serverless-offline's own port differs when the SigV4 front is on). */
  private apiUrl = '';
  private pendingEventSources: (() => void) | undefined;
  private pendingSchedules: (() => void) | undefined;
  private worker: Worker | undefined;
  private stopEmulators: (() => Promise<void>) | undefined;

  /** Starts the emulator thread; its stopper stops the event sources and closes it (the queue journal synced). */
  private startEmulators(config: EmulatorConfig): Promise<Extract<FromWorker, { type: 'ready' }>> {
    const worker = new Worker(join(__dirname, '..', 'emulatorWorker.js'), { workerData: config });
    this.worker = worker;
    let stopped: () => void = () => undefined;
    // First when stopping: the event sources let running invocations finish while the functions,
    // the Lambda front and the emulators are all still up.
    this.stopEmulators = async () => {
      if (worker.threadId === -1) return; // already gone (it failed to start)
      const done = new Promise<void>((resolve) => {
        stopped = resolve;
        worker.once('exit', () => resolve());
        setTimeout(() => resolve(), 20_000).unref();
      });
      worker.postMessage({ type: 'stop' } satisfies ToWorker);
      await done;
      await worker.terminate();
      this.worker = undefined;
    };
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the emulator thread exited (${code})`)));
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve(message);
        else if (message.type === 'failed') reject(new Error(message.message));
        else if (message.type === 'warning') this.utils.log.warning(`${PLUGIN}: ${message.message}`);
        else if (message.type === 'stopped') stopped();
      });
    });
  }

  async ready(): Promise<void> {
    this.pendingEventSources?.();
    this.pendingEventSources = undefined;
    this.pendingSchedules?.();
    this.pendingSchedules = undefined;
    const extra = this.config.readyMessage
      ? ['', ...String(this.config.readyMessage).replaceAll('{api}', this.apiUrl).trimEnd().split('\n')]
      : [];
    const text = [
      '',
      `${this.serverless.service.service} is running (ready in ${((Date.now() - this.startedAt) / 1000).toFixed(1)} s)`,
      '',
      ...this.banner,
      ...extra,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n');
    this.print(text);
    const file = (this.options.stackInfo ?? this.config.stackInfo) as string | undefined;
    if (file && this.info) {
      await mkdir(dirname(resolve(file)), { recursive: true });
      await writeFile(`${resolve(file)}.tmp`, JSON.stringify(this.info, null, 2));
      await rename(`${resolve(file)}.tmp`, resolve(file));
    }
  }

  /** To standard output, as the framework writes (the start banner, the metrics line). */
  private print(text: string): void {
    if (this.utils.writeText) this.utils.writeText(text);
    else console.log(text);
  }

  /** Stops the event sources (letting running invocations finish), closes the emulators. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const stopEmulators = this.stopEmulators;
    this.stopEmulators = undefined;
    await stopEmulators?.().catch((error: Error) =>
      this.utils.log.warning(`${PLUGIN}: while stopping: ${error.message}`),
    );
    for (const stopOne of this.stoppers.splice(0).reverse()) {
      await stopOne().catch((error: Error) => this.utils.log.warning(`${PLUGIN}: while stopping: ${error.message}`));
    }
  }

  /** `sls invoke local` runs the function against the emulators `sls offline start` serves. */
  pointInvokeLocalAtEmulators(): void {
    if (this.config.invokeLocal !== undefined && !asBool(this.config.invokeLocal)) return;
    const settings = this.settings();
    const resolver = createResolver(this.template(), this.localContext(settings));
    const key = this.options.function as string | undefined;
    this.injectEnvironment(settings, resolver, key ? [key] : []);
    // The function's result alone on stdout, so it pipes to jq: no metrics line before it.
    this.serverless.service.provider.environment = {
      ...this.serverless.service.provider.environment,
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
  }
}
