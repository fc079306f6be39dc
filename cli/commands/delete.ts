import { describeDeleted } from '../format';
import { type CommandContext, print } from './context';

/** `fsm delete <id>`: now, or when its running step ends. */
export async function deleteMachine(ctx: CommandContext, id: string): Promise<void> {
  const result = await ctx.api.deleteMachine(id);
  print(ctx, { id, deleted: !result.removing, removing: result.removing }, () => describeDeleted(result));
}
