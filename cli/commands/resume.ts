import type { ResumeRequest } from '../../client/apiClient';
import { CliError } from '../errors';
import { describeResumed } from '../format';
import { type CommandContext, print } from './context';

/** `fsm resume <id>`: wakes a PARKED machine; --object is its new data (JSON), --state the state to continue in. */
export async function resume(
  ctx: CommandContext,
  id: string,
  options: { object?: string; state?: string },
): Promise<void> {
  const request: ResumeRequest = {};
  if (options.object !== undefined) request.object = parseJsonOption('--object', options.object);
  if (options.state !== undefined) request.state = options.state;
  const machine = await ctx.api.resume(id, request);
  print(ctx, machine, () => describeResumed(id, machine));
}

/** The JSON an option holds; a CliError naming the option when it is not JSON. */
export function parseJsonOption(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}
