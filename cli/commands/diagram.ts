import { type CommandContext, print } from './context';

/** `fsm diagram <id> [--svg]`: its Mermaid state diagram, or the same drawn as SVG (`--svg > file.svg`). */
export async function diagram(ctx: CommandContext, id: string, options: { svg?: boolean } = {}): Promise<void> {
  if (options.svg) {
    const svg = await ctx.api.diagramSvg(id);
    print(ctx, { id, svg }, () => svg.trimEnd());
    return;
  }
  const text = await ctx.api.diagram(id);
  print(ctx, { id, mermaid: text }, () => text.trimEnd());
}
