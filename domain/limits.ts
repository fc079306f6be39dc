/**
 * Every number the service's rules depend on, in one place. docs/design.md explains where each
 * comes from; serverless.yml sets the deployed lease and timeouts from the same values.
 */

/** A machine's `object` and `config` together, as JSON; DynamoDB items stop at 400 KB. */
export const MAX_MACHINE_BYTES = 256 * 1024;

/** SQS's DelaySeconds cap; longer waits are chained through `wakeAt`. */
export const SQS_MAX_DELAY_SECONDS = 900;
/** The longest delay a handler may ask for: one year. */
export const MAX_DELAY_SECONDS = 31_536_000;
/** How long to hold back a message that overtook the commit it was sent before. */
export const DEFER_SECONDS = 1;

/** The transition processor's timeout (serverless.yml `custom.transitionTimeout`). */
export const PROCESSOR_TIMEOUT_SECONDS = 60;
/**
 * How long the transition processor holds a step: longer than the processor's own timeout, so a
 * lease outlives the invocation that took it.
 */
export const DEFAULT_LEASE_SECONDS = 70;
/** The share of its lease a step may spend in the handler, leaving the rest to commit. */
export const INVOKE_SHARE_OF_LEASE = 0.8;
/** The longest a step's invoke may take under a lease of `leaseSeconds`: its share of the lease. */
export const invokeTimeoutMs = (leaseSeconds: number): number => leaseSeconds * 1000 * INVOKE_SHARE_OF_LEASE;
/**
 * The longest state timeout (`timeouts`) a definition may give, before the deployment's own
 * bound (INVOKE_SHARE_OF_LEASE x the lease, 56 s by default): Lambda's longest function timeout.
 */
export const MAX_STATE_TIMEOUT_SECONDS = 900;
/** How long a throttled step waits before it is tried again (its attempt is not used up). */
export const THROTTLE_RETRY_SECONDS = 2;
/** How long an API call (resume, redrive, wake) holds a machine while it sends and commits. */
export const API_LEASE_SECONDS = 30;

/** Receives of a step message before SQS dead-letters it (serverless.yml `custom.queues`). */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/** Listing page sizes. */
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;
/** History page sizes: a page stays far below Lambda's 6 MB response and DynamoDB's 1 MB query page. */
export const DEFAULT_HISTORY_PAGE_SIZE = 100;
export const MAX_HISTORY_PAGE_SIZE = 1000;
/** The most events a diagram is drawn from (the oldest ones); it says so when there are more. */
export const MAX_DIAGRAM_EVENTS = 2000;
/**
 * The largest diagram drawn as SVG (larger ones: 413, the Mermaid text still answers): the
 * layout's time grows faster than its size, about 3 s of one vCPU at these (docs/design.md "Limits").
 */
export const MAX_SVG_STATES = 100;
export const MAX_SVG_EDGES = 150;
/** History items a deleted machine's purge removes per request (then it goes on from the queue). */
export const HISTORY_PURGE_BATCH = 1000;

/**
 * History items get their expiry when written, before the machine's end is known: they keep the
 * machine's retention plus this margin, longer than the longest single delay (one year).
 */
export const HISTORY_RETENTION_MARGIN_DAYS = 400;

/** DynamoDB's item size limit, as it counts (domain/storable.ts). */
export const MAX_ITEM_BYTES = 400 * 1024;
/**
 * What a committed machine record may take, leaving room under MAX_ITEM_BYTES for what a later
 * write adds to it without a check of its own: a lease, a removal mark, a failure's error.
 */
export const MAX_RECORD_BYTES = MAX_ITEM_BYTES - 8 * 1024;
/** DynamoDB's limit on nested maps and lists. */
export const MAX_NESTING_DEPTH = 32;
/** The smallest magnitude DynamoDB stores, other than 0 (its largest, 1e126, is past 2^53). */
export const MIN_NUMBER_MAGNITUDE = 1e-130;
/** Error text kept from a handler's failure (in the record and its history event). */
export const MAX_ERROR_CHARS = 1000;

/**
 * Shards of the status index per status (the `statusShards` stage param): a machine's index
 * key is `STATUS#shard`, the shard a hash of its id. 64 keeps every index key under DynamoDB's
 * 1,000 writes/s per partition up to 10,000 adds/s (docs/design.md "The status index").
 */
export const DEFAULT_STATUS_SHARDS = 64;
/** The most shards: a listing queries every shard of each status it reads, and its token holds a bit per shard. */
export const MAX_STATUS_SHARDS = 256;
/**
 * The due index's granularity (docs/design.md "The due index"): a RUNNING machine's key there is
 * the 5-minute bucket its step is due in, so a chain of steps rewrites it once per bucket, not
 * once per step.
 */
export const DUE_BUCKET_SECONDS = 300;
/**
 * How long a RUNNING machine's step may be due with nobody on it before the sweeper sends its
 * message again (the `sweepAfterSeconds` stage param): longer than any step waits for a message
 * that is on its way, so the sweeper does not add copies to a queue that is only slow.
 */
export const DEFAULT_SWEEP_AFTER_SECONDS = 900;
/** DynamoDB's write limit of one partition, in writes (of items up to 1 KB) per second. */
export const PARTITION_WRITES_PER_SECOND = 1000;

/**
 * BatchWriteItem / BatchGetItem leftovers (UnprocessedItems, UnprocessedKeys), sent again with
 * AWS's advice: exponential backoff with full jitter (a random wait up to base x 2^retry, at most
 * the cap), a bounded number of times; then the call fails and its caller's retry takes over.
 */
export const LEFTOVER_TRIES = 8;
export const LEFTOVER_BASE_MS = 50;
export const LEFTOVER_CAP_MS = 2000;
