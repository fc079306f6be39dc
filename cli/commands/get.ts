import { describeMachine } from '../format';
import { type CommandContext, print } from './context';

/** `fsm get <id>` */
export async function get(ctx: CommandContext, id: string): Promise<void> {
  const machine = await ctx.api.getMachine(id);
  print(ctx, machine, () => describeMachine(machine));
}
