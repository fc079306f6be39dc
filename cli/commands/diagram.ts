import { type CommandContext, print } from './context';

/** `fsm diagram <id>`: its Mermaid state diagram. */
export async function diagram(ctx: CommandContext, id: string): Promise<void> {
  const text = await ctx.api.diagram(id);
  print(ctx, { id, mermaid: text }, () => text.trimEnd());
}
