import { describeHistory } from '../format';
import { type CommandContext, print } from './context';

/** `fsm history <id>`: its events, oldest first. */
export async function history(ctx: CommandContext, id: string): Promise<void> {
  const result = await ctx.api.history(id);
  print(ctx, result, () => describeHistory(result.events));
}
