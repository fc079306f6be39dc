import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { bannerLines, readyText } from './banner';
import {
  createResolver,
  functionArn,
  queueArn,
  queueDefinitions,
  type Resolver,
  tableDefinitions,
} from './cloudformation';
import { LOCAL_CREDENTIALS } from './credentials';
import { reportMetrics } from './emf';
import { type EmulatorThread, startEmulatorThread } from './emulatorThread';
import type { EventSourceSpec } from './emulatorWorker';
import type { Log, Serverless } from './framework';
import { startHttpFront } from './httpFront';
import { propagateTraceHeader } from './invocationEnv';
import { startLambdaFront } from './lambdaFront';
import { correctOfflineRunner, forgetBundles } from './offlineRunner';
import { asBool, type CliOptions, COMMANDS, PLUGIN, pluginConfig, readSettings, type Settings } from './options';
import { jsonlRecorder } from './recorder';
import { invokeScheduled } from './schedules';
import { close, freePort } from './servers';
import {
  bundleDir,
  concurrencyCaps,
  dropAuthorizers,
  functionName,
  iamStatements,
  injectEnvironment,
  localContext,
  outputs,
  type SqsEventSource,
  scheduledFunctions,
  sqsEventSources,
  template,
} from './service';
import { localOutputs, type StackInfo, writeStackInfo } from './stackInfo';

/** The plugin's public types, for a host project's tests and tools. */
export type { PluginConfig } from './options';
export type { StackInfo } from './stackInfo';

const EVENT_SOURCE_AGENT = 'serverless-offline-emulators-sqs-event-source';

/**
 * `sls offline start` as the whole local stack: DynamoDB and SQS emulators in this process, the
 * service's tables and queues created from its own CloudFormation resources, every function
 * pointed at them, an SQS event source for every `sqs` event, a Lambda endpoint that takes ARNs,
 * and (optionally) a log of every AWS request the functions make.
 */
export class ServerlessOfflineEmulators {
  readonly commands = COMMANDS;
  readonly hooks: Record<string, () => Promise<void>>;

  private readonly stoppers: (() => Promise<void>)[] = [];
  private stopped = false;
  private readonly startedAt = Date.now();
  private emulators: EmulatorThread | undefined;
  /** The HTTP API's public URL (serverless-offline's own port differs when the SigV4 front is on). */
  private apiUrl = '';
  /** What waits for serverless-offline to listen (offline:start:ready). */
  private pendingEventSources: (() => void) | undefined;
  private pendingSchedules: (() => void) | undefined;
  private banner: string[] = [];
  private info: StackInfo | undefined;
  private readonly warn = (message: string) => this.utils.log.warning(`${PLUGIN}: ${message}`);

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
        forgetBundles(bundleDir(this.serverless));
      },
      // Before osls's own invoke-local plugin resolves the environment (it would ask CloudFormation).
      initialize: async () => {
        const commands = this.serverless.processedInput?.commands ?? [];
        if (commands[0] === 'invoke' && commands[1] === 'local') this.pointInvokeLocalAtEmulators();
      },
    };
  }

  async start(): Promise<void> {
    await correctOfflineRunner();
    const { service } = this.serverless;
    dropAuthorizers(service);
    const settings = readSettings(this.serverless, this.options);
    const resolver = createResolver(template(service), localContext(this.serverless, settings));
    const keys = service.getAllFunctions();
    try {
      const { queueNames, tables, queueUrls, restored } = await this.startEmulators(settings, resolver);
      const lambda = await this.startLambdaFront(settings, keys);
      this.apiUrl = await this.startHttpFront(settings);
      this.startMetricsLine(settings);
      injectEnvironment(service, settings, resolver, keys);
      const unpropagate = propagateTraceHeader(lambda.offlinePort);
      this.stoppers.push(async () => unpropagate());

      const sources = sqsEventSources(service, resolver, this.warn);
      this.pendingEventSources = () =>
        this.emulators?.post({
          type: 'startEventSources',
          sources: this.eventSourceSpecs(settings, sources, lambda.offlinePort),
        });
      this.pendingSchedules = () => {
        for (const key of scheduledFunctions(service)) {
          void invokeScheduled(lambda.offlineUrl, functionName(this.serverless, key), settings, this.warn);
        }
      };

      this.info = {
        service: service.service,
        stage: settings.stage,
        region: settings.region,
        accountId: settings.accountId,
        endpoints: {
          http: this.apiUrl,
          lambda: lambda.url,
          dynamodb: this.emulatorUrl(settings, 'dynamodb'),
          sqs: this.emulatorUrl(settings, 'sqs'),
        },
        apiAuth: settings.apiAuth,
        environment: Object.fromEntries(
          Object.entries(service.provider.environment ?? {}).map(([k, v]) => [k, String(v)]),
        ),
        outputs: localOutputs(outputs(service), resolver),
        functions: Object.fromEntries(keys.map((key) => [key, functionName(this.serverless, key)])),
        queues: queueUrls,
        tables,
        iam: iamStatements(service, resolver, keys),
        pid: process.pid,
      };
      this.banner = bannerLines(settings, this.info, queueNames, sources, restored);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async ready(): Promise<void> {
    this.pendingEventSources?.();
    this.pendingEventSources = undefined;
    this.pendingSchedules?.();
    this.pendingSchedules = undefined;
    const config = pluginConfig(this.serverless);
    this.print(
      readyText({
        service: this.serverless.service.service,
        startedAt: this.startedAt,
        banner: this.banner,
        readyMessage: config.readyMessage,
        apiUrl: this.apiUrl,
      }),
    );
    const file = (this.options.stackInfo ?? config.stackInfo) as string | undefined;
    if (file && this.info) await writeStackInfo(file, this.info);
  }

  /** Stops the event sources (letting running invocations finish), closes the emulators. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const emulators = this.emulators;
    this.emulators = undefined;
    await emulators?.stop().catch((error: Error) => this.warn(`while stopping: ${error.message}`));
    for (const stopOne of this.stoppers.splice(0).reverse()) {
      await stopOne().catch((error: Error) => this.warn(`while stopping: ${error.message}`));
    }
  }

  /** `sls invoke local` runs the function against the emulators `sls offline start` serves. */
  pointInvokeLocalAtEmulators(): void {
    const config = pluginConfig(this.serverless);
    if (config.invokeLocal !== undefined && !asBool(config.invokeLocal)) return;
    const settings = readSettings(this.serverless, this.options);
    const { service } = this.serverless;
    const resolver = createResolver(template(service), localContext(this.serverless, settings));
    const key = this.options.function as string | undefined;
    injectEnvironment(service, settings, resolver, key ? [key] : []);
    // The function's result alone on stdout, so it pipes to jq: no metrics line before it.
    service.provider.environment = { ...service.provider.environment, POWERTOOLS_METRICS_DISABLED: 'true' };
  }

  /** DynamoDB, SQS and (once serverless-offline listens) the event sources, on a thread of their own. */
  private async startEmulators(settings: Settings, resolver: Resolver) {
    const queues = queueDefinitions(template(this.serverless.service), resolver);
    this.emulators = startEmulatorThread(
      {
        host: settings.host,
        region: settings.region,
        accountId: settings.accountId,
        ports: { dynamodb: settings.ports.dynamodb, sqs: settings.ports.sqs },
        ...(settings.persist
          ? {
              dynamoPath: join(settings.dataDir, 'dynamodb'),
              journalFile: join(settings.dataDir, 'sqs-journal.jsonl'),
            }
          : {}),
        ...(settings.requestLog ? { requestLog: settings.requestLog } : {}),
        ...(settings.unprocessedTries ? { unprocessedTries: settings.unprocessedTries } : {}),
        tables: tableDefinitions(template(this.serverless.service), resolver),
        queues,
        eventSourceAgent: EVENT_SOURCE_AGENT,
      },
      this.warn,
    );
    const ready = await this.emulators.ready;
    if (settings.persist) await mkdir(settings.dataDir, { recursive: true });
    return { ...ready, queueNames: queues.map((queue) => queue.QueueName) };
  }

  /** Lambda: serverless-offline listens on a port of our choosing; the front takes the public one. */
  private async startLambdaFront(settings: Settings, keys: string[]) {
    const { host } = settings;
    const offlinePort = await this.moveOffline('lambdaPort', host);
    const front = await startLambdaFront({
      port: settings.ports.lambda,
      host,
      target: { host, port: offlinePort },
      functionNames: new Set(keys.map((key) => functionName(this.serverless, key))),
      concurrency: concurrencyCaps(this.serverless, keys, settings.invokeConcurrency),
      region: settings.region,
      accountId: settings.accountId,
      ...(settings.requestLog ? { recorder: jsonlRecorder(settings.requestLog) } : {}),
    });
    this.stoppers.push(() => close(front.server));
    return { url: front.url, offlinePort, offlineUrl: `http://${host}:${offlinePort}` };
  }

  /**
   * The HTTP API: serverless-offline listens on a port of our choosing and the front takes the
   * public one, for CORS as the deployed API has it and, with IAM auth, SigV4 (src/httpFront.ts).
   */
  private async startHttpFront(settings: Settings): Promise<string> {
    const { host } = settings;
    const front = await startHttpFront({
      port: settings.ports.http,
      host,
      target: { host, port: await this.moveOffline('httpPort', host) },
      region: settings.region,
      accountId: settings.accountId,
      auth: settings.apiAuth,
      credentials: LOCAL_CREDENTIALS,
      corsOrigins: settings.corsOrigins,
      onRefused: (method, path, reason) => this.utils.log.notice(`${PLUGIN}: 403 ${method} ${path}: ${reason}`),
    });
    this.stoppers.push(() => close(front.server));
    return `http://${host}:${settings.ports.http}`;
  }

  /** Gives serverless-offline a free port of our choosing in place of the public one, which a front takes. */
  private async moveOffline(option: 'lambdaPort' | 'httpPort', host: string): Promise<number> {
    const port = await freePort(host);
    this.options[option] = String(port);
    return port;
  }

  /** The functions run in this process and print their EMF metrics to its stdout. */
  private startMetricsLine(settings: Settings): void {
    if (settings.metricsIntervalMs <= 0) return;
    const metrics = reportMetrics(process.stdout, {
      intervalMs: settings.metricsIntervalMs,
      print: (line) => this.print(line),
    });
    this.stoppers.push(async () => metrics.stop());
  }

  private eventSourceSpecs(settings: Settings, sources: SqsEventSource[], lambdaPort: number): EventSourceSpec[] {
    const arns = { region: settings.region, accountId: settings.accountId };
    return sources.map((source) => {
      const name = functionName(this.serverless, source.functionKey);
      return {
        queueName: source.queueName,
        region: settings.region,
        sqsEndpoint: this.emulatorUrl(settings, 'sqs'),
        lambdaEndpoint: `http://${settings.host}:${lambdaPort}`,
        queueArn: queueArn(arns, source.queueName),
        functionKey: source.functionKey,
        functionName: name,
        functionArn: functionArn(arns, name),
        credentials: LOCAL_CREDENTIALS,
        batchSize: source.batchSize,
        batchingWindowSeconds: source.batchingWindowSeconds,
        pollers: source.maximumConcurrency ?? settings.pollers,
        reportBatchItemFailures: source.reportBatchItemFailures,
        recursiveLoop:
          this.serverless.service.getFunction(source.functionKey).recursiveLoop === 'Allow' ? 'Allow' : 'Terminate',
        userAgent: EVENT_SOURCE_AGENT,
      };
    });
  }

  private emulatorUrl(settings: Settings, emulator: 'dynamodb' | 'sqs'): string {
    return `http://${settings.host}:${settings.ports[emulator]}`;
  }

  /** To standard output, as the framework writes (the start banner, the metrics line). */
  private print(text: string): void {
    if (this.utils.writeText) this.utils.writeText(text);
    else console.log(text);
  }
}
