/**
 * AWS on-demand prices, us-east-1, in USD, as published on AWS's pricing pages (checked 2025-06;
 * this machine has no network to re-check them). Free tiers are ignored.
 */
export const PRICES_AS_OF = '2025-06';

export const PRICES = {
  dynamodb: {
    /** On-demand: per million write request units (1 KB each) and read request units (4 KB, strongly consistent). */
    perMillionWriteUnits: 0.625,
    perMillionReadUnits: 0.125,
  },
  sqs: {
    /** Standard queue: per million requests (each 64 KB chunk of a payload is one request). */
    perMillionRequests: 0.4,
  },
  lambda: {
    perMillionRequests: 0.2,
    /** arm64, per GB-second. */
    perGbSecond: 0.0000133334,
  },
  stepFunctions: {
    /** Standard workflows: per million state transitions. */
    standardPerMillionTransitions: 25,
    /** Express workflows: per million executions, plus duration (not comparable for long waits: 5 min max). */
    expressPerMillionRequests: 1,
    expressPerGbSecond: 0.00001667,
  },
} as const;

/** What the model assumes about AWS where the local run cannot tell. */
export const ASSUMPTIONS = {
  /** Memory of the transition processor and of a state handler (serverless.yml provider.memorySize). */
  memoryGb: 0.25,
  /** Billed duration of one no-op state handler invocation. */
  handlerSeconds: 0.01,
  /**
   * SQS requests Lambda's pollers make per processor invocation: one ReceiveMessage that returned
   * its batch and one DeleteMessageBatch (empty receives while idle are left out).
   */
  pollerRequestsPerInvocation: 2,
  /**
   * Index writes per machine: the status index's entry is written at add and rewritten (2 units)
   * at finish; the due index's is written at add and deleted at finish, and rewritten (2 units)
   * only when a step is due in a later 5-minute bucket, which no bench machine lives long enough to see.
   */
  indexWriteUnitsPerMachine: 5,
} as const;
