import type { FunctionScope } from '../../domain/functionRef';
import {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_STATUS_SHARDS,
  DEFAULT_SWEEP_AFTER_SECONDS,
  MAX_STATUS_SHARDS,
  SQS_MAX_DELAY_SECONDS,
} from '../../domain/limits';

/** Everything the handlers read from the environment, read once and checked at cold start. */
export interface ServiceConfig {
  region: string;
  tableName: string;
  historyTableName: string;
  queueUrl: string;
  /** Empty on AWS, so the SDK's defaults apply; set to the emulators' URLs in the local stage. */
  endpoints: { dynamodb?: string; sqs?: string; lambda?: string };
  servicePrefix: string;
  /** This stage's state functions by exact name, from ALLOWED_FUNCTIONS (resources/state-functions.js). */
  stateFunctions: string[];
  /** ARN globs of functions outside the service, from ALLOWED_FUNCTIONS. */
  extraFunctionArns: string[];
  leaseSeconds: number;
  /** Receives of a step message before SQS moves it to the dead-letter queue (the redrive policy). */
  maxReceiveCount: number;
  maxQueueDelaySeconds: number;
  /** Shards of the status index per status (STATUS_SHARDS; docs/design.md "The status index"). */
  statusShards: number;
  /** How long a step may be overdue before the sweeper sends it again (SWEEP_AFTER_SECONDS). */
  sweepAfterSeconds: number;
}

type Env = Record<string, string | undefined>;

function required(env: Env, key: string): string {
  const value = env[key];
  if (!value) throw new Error(`environment variable ${key} is not set`);
  return value;
}

function optional(env: Env, key: string): string | undefined {
  return env[key] || undefined;
}

function positiveInt(env: Env, key: string, fallback: number): number {
  const raw = env[key];
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`environment variable ${key} must be a positive integer`);
  return value;
}

function statusShards(env: Env): number {
  const shards = positiveInt(env, 'STATUS_SHARDS', DEFAULT_STATUS_SHARDS);
  if (shards > MAX_STATUS_SHARDS)
    throw new Error(`environment variable STATUS_SHARDS must be at most ${MAX_STATUS_SHARDS}`);
  return shards;
}

/**
 * ALLOWED_FUNCTIONS: this stage's state functions by exact name, then ARN globs of functions
 * outside the service, comma-separated. Empty is a stage with no state function, but unset is a
 * mistake: every machine would fail as if its functions were not allowed.
 */
function allowList(env: Env): Pick<ServiceConfig, 'stateFunctions' | 'extraFunctionArns'> {
  const raw = env.ALLOWED_FUNCTIONS;
  if (raw === undefined) throw new Error('environment variable ALLOWED_FUNCTIONS is not set');
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const names = entries.filter((entry) => !entry.startsWith('arn:'));
  const pattern = names.find((name) => name.includes('*'));
  if (pattern !== undefined)
    throw new Error(`environment variable ALLOWED_FUNCTIONS: '${pattern}' is a pattern; names are exact`);
  return { stateFunctions: names, extraFunctionArns: entries.filter((entry) => entry.startsWith('arn:')) };
}

export function readConfig(env: Env = process.env): ServiceConfig {
  const servicePrefix = required(env, 'SERVICE_PREFIX');
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    tableName: required(env, 'TABLE_NAME'),
    historyTableName: required(env, 'HISTORY_TABLE_NAME'),
    queueUrl: required(env, 'QUEUE_URL'),
    endpoints: {
      dynamodb: optional(env, 'DYNAMODB_ENDPOINT'),
      sqs: optional(env, 'SQS_ENDPOINT'),
      lambda: optional(env, 'LAMBDA_ENDPOINT'),
    },
    servicePrefix,
    ...allowList(env),
    leaseSeconds: positiveInt(env, 'LEASE_SECONDS', DEFAULT_LEASE_SECONDS),
    maxReceiveCount: positiveInt(env, 'MAX_RECEIVE_COUNT', DEFAULT_MAX_RECEIVE_COUNT),
    statusShards: statusShards(env),
    sweepAfterSeconds: positiveInt(env, 'SWEEP_AFTER_SECONDS', DEFAULT_SWEEP_AFTER_SECONDS),
    maxQueueDelaySeconds: Math.min(
      positiveInt(env, 'MAX_QUEUE_DELAY_SECONDS', SQS_MAX_DELAY_SECONDS),
      SQS_MAX_DELAY_SECONDS,
    ),
  };
}

/**
 * The allow-list scope for a request, with the account, region and partition taken from the
 * running function's ARN. Where there is none (serverless-offline gives no real ARN) the region
 * is still the service's own, so a local run refuses an ARN of another region as AWS would.
 */
export function functionScope(config: ServiceConfig, invokedFunctionArn?: string): FunctionScope {
  const [, partition, , region, accountId] = invokedFunctionArn?.split(':') ?? [];
  const known = accountId !== undefined && /^\d{12}$/.test(accountId);
  return {
    servicePrefix: config.servicePrefix,
    stateFunctions: config.stateFunctions,
    extraFunctionArns: config.extraFunctionArns,
    ...(known ? { accountId, region, partition } : { region: config.region }),
  };
}
