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

/**
 * How long the transition processor holds a step: longer than the processor's own timeout
 * (serverless.yml `custom.transitionTimeout`), so a lease outlives the invocation that took it.
 */
export const DEFAULT_LEASE_SECONDS = 70;
/** The share of its lease a step may spend in the handler, leaving the rest to commit. */
export const INVOKE_SHARE_OF_LEASE = 0.8;
/** How long an API call (resume, redrive, wake) holds a machine while it sends and commits. */
export const API_LEASE_SECONDS = 30;

/** Listing page sizes. */
export const DEFAULT_PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 100;

/**
 * History items get their expiry when written, before the machine's end is known: they keep the
 * machine's retention plus this margin, longer than the longest single delay (one year).
 */
export const HISTORY_RETENTION_MARGIN_DAYS = 400;
