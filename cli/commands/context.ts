import type { ApiClient, RequestTransform } from '../../client/apiClient';

/** What every command runs with: the API, the output mode and where its output goes. */
export interface CommandContext {
  api: ApiClient;
  /** How `api` signs its requests (--auth), for other clients of the same API (the console). */
  transformRequest?: RequestTransform;
  /** --json: print JSON for scripts instead of text for people. */
  json: boolean;
  /** Writes to standard output, one call per line (or block of lines). */
  write(text: string): void;
  /** Progress of a long command, for people (standard error); replaced by the next call. Optional. */
  progress?(text: string): void;
}

/** Prints `value` as JSON under --json, else the text `human` makes. */
export function print(ctx: CommandContext, value: unknown, human: () => string): void {
  ctx.write(ctx.json ? JSON.stringify(value, null, 2) : human());
}
