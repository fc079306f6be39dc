import { isAbsolute, join, resolve } from 'node:path';
import type { Serverless } from './framework';
import { parseApiAuth, parseCorsOrigins } from './httpFront';

export const PLUGIN = 'serverless-offline-emulators';
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

export type CliOptions = Record<string, unknown>;

/** The options this plugin adds to `sls offline start`. */
export const COMMANDS = {
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

export const asBool = (value: unknown) => value === true || value === 'true';
/** A positive number, or undefined for absent, empty or anything else. */
export const positive = (value: unknown): number | undefined => {
  const n = value === undefined || value === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

export function pluginConfig(serverless: Serverless): PluginConfig {
  return (serverless.service.custom?.[PLUGIN] ?? {}) as PluginConfig;
}

export type Settings = ReturnType<typeof readSettings>;

/** The stack's settings: the command line first, then the plugin's config (or serverless-offline's), then defaults. */
export function readSettings(serverless: Serverless, options: CliOptions) {
  const config = pluginConfig(serverless);
  const offlineConfig = (serverless.service.custom?.['serverless-offline'] ?? {}) as Record<string, unknown>;
  const aws = serverless.getProvider('aws');
  const host = String(options.host ?? offlineConfig.host ?? config.host ?? '127.0.0.1');
  const dataDir = String(options.dataDir ?? config.dataDir ?? '.local-data');
  const servicePath = serverless.config.servicePath;
  const requestLog = (options.requestLog ?? config.requestLog ?? process.env.SLS_OFFLINE_REQUEST_LOG) as
    | string
    | undefined;
  return {
    host,
    region: aws.getRegion(),
    stage: aws.getStage(),
    accountId: String(config.accountId ?? DEFAULT_ACCOUNT),
    ports: {
      http: Number(options.httpPort ?? offlineConfig.httpPort ?? 3000),
      lambda: Number(options.lambdaPort ?? offlineConfig.lambdaPort ?? 3002),
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
