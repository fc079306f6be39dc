import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** An AWS API request a function made to the local stack. */
export interface RequestRecord {
  kind: 'request';
  /** Epoch milliseconds when the request arrived. */
  at: number;
  service: 'dynamodb' | 'sqs' | 'lambda';
  /** The API operation (PutItem, SendMessage, Invoke ...). */
  action: string;
  /** The IAM action it needs (`dynamodb:PutItem`, `lambda:InvokeFunction` ...). */
  iamAction: string;
  /** The ARNs the request touched (tables or indexes, queues, functions). */
  resources: string[];
  /** The calling function's key in serverless.yml, from the SDK's User-Agent (`app/<key>`). */
  function?: string;
  /** Set when the local SQS event source made the request on the function's behalf (as Lambda's pollers do). */
  eventSource?: 'sqs';
  status: number;
  /** The error type, for a failed request (e.g. ConditionalCheckFailedException). */
  error?: string;
  /** DynamoDB capacity units the request consumed, read or write as the action is. */
  capacityUnits?: number;
  durationMs: number;
}

/** One invocation of a function by the local SQS event source. */
export interface InvocationRecord {
  kind: 'invocation';
  at: number;
  trigger: 'sqs';
  function: string;
  functionArn: string;
  eventSourceArn: string;
  messages: number;
  /** Messages the invocation reported in batchItemFailures (all of them when it failed, or were not invoked). */
  failures: number;
  error?: string;
  /**
   * How many times this chain has invoked the function, this invocation included (Lambda's
   * recursive loop detection counts these); for a stopped loop, the invocation that was refused.
   */
  hops?: number;
  durationMs: number;
}

export type LogRecord = RequestRecord | InvocationRecord;

export interface Recorder {
  record(entry: LogRecord): void;
}

/** Appends one JSON object a line to `file` (synchronous writes: nothing is lost on exit). */
export function jsonlRecorder(file: string): Recorder {
  mkdirSync(dirname(file), { recursive: true });
  return {
    record(entry) {
      appendFileSync(file, `${JSON.stringify(entry)}\n`);
    },
  };
}

export const noRecorder: Recorder = { record() {} };

/**
 * Operations IAM authorizes under another action's name: Lambda's Invoke, and SQS's batch
 * operations (there is no `sqs:SendMessageBatch` permission; SendMessage covers it).
 */
const IAM_ACTIONS: Record<string, string> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'sqs:ChangeMessageVisibility',
};

/** The IAM action an API operation needs: `<service>:<operation>`, except those IAM_ACTIONS renames. */
export function iamActionOf(service: RequestRecord['service'], action: string): string {
  return IAM_ACTIONS[`${service}:${action}`] ?? `${service}:${action}`;
}
