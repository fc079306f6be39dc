import type { Json } from './definition';

/** What a state handler receives (docs/design.md#handler-contract). `id` + `version` identify the step: use them as an idempotency key. */
export interface StateHandlerInput<TObject = Json> {
  id: string;
  state: string;
  object: TObject;
  config: Record<string, string>;
  version: number;
  attempt: number;
}

/**
 * What a state handler returns: the next state (with new data and a delay in seconds; a negative
 * delay parks the machine until resumed), or null when the machine has finished.
 */
export type StateHandlerResult<TObject = Json> = { state: string; object?: TObject; delay?: number } | null;

export type StateHandler<TObject = Json> = (input: StateHandlerInput<TObject>) => Promise<StateHandlerResult<TObject>>;
