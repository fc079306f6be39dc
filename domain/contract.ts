import type { Json } from './definition';

/** The failure a `catch` sent the machine here to handle: what failed, where, and on which attempt. */
export interface CaughtFailure {
  message: string;
  /** The state whose failure was caught. */
  state: string;
  /** Its last attempt. */
  attempt: number;
}

/** What a state handler receives (docs/design.md#handler-contract). `id` + `version` identify the step: use them as an idempotency key. */
export interface StateHandlerInput<TObject = Json> {
  id: string;
  state: string;
  object: TObject;
  config: Record<string, string>;
  version: number;
  attempt: number;
  /**
   * Opaque and secret: answers a park of this step (`POST /callbacks`, docs/design.md "Callbacks").
   * Hand it to whoever must answer; never log it.
   */
  callbackToken?: string;
  /** Only in a state entered by a `catch`: the failure it caught (kept across this state's retries). */
  error?: CaughtFailure;
}

/**
 * What a state handler returns: the next state (with new data and a delay in seconds; a negative
 * delay parks the machine until resumed or answered, within `timeout` and with a `heartbeat` if
 * given, in seconds), or null when the machine has finished.
 */
export type StateHandlerResult<TObject = Json> = {
  state: string;
  object?: TObject;
  delay?: number;
  timeout?: number;
  heartbeat?: number;
} | null;

export type StateHandler<TObject = Json> = (input: StateHandlerInput<TObject>) => Promise<StateHandlerResult<TObject>>;
