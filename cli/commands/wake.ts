import { describeWoken } from '../format';
import { type CommandContext, print } from './context';

/** `fsm wake <id>`: a RUNNING machine waiting on a delay runs its next step now. */
export async function wake(ctx: CommandContext, id: string): Promise<void> {
  const machine = await ctx.api.wake(id);
  print(ctx, machine, () => describeWoken(id, machine));
}
