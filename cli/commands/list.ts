import type { MachineStatus } from '../../domain/machine';
import { machineTable } from '../format';
import { type CommandContext, print } from './context';

export interface ListOptions {
  status?: MachineStatus;
  /** Follow nextToken to the end instead of printing one page. */
  all: boolean;
  /** Page size as typed; the API checks it. */
  limit: string;
}

/** `fsm list`: machines newest first; the alive ones unless --status says otherwise. */
export async function list(ctx: CommandContext, options: ListOptions): Promise<void> {
  const query = { ...(options.status ? { status: options.status } : {}), limit: Number(options.limit) };
  if (options.all) {
    const items = await ctx.api.listAll(query);
    print(ctx, { items }, () => machineTable(items));
    return;
  }
  const { items, nextToken } = await ctx.api.listPage(query);
  print(ctx, { items, nextToken }, () => machineTable(items, nextToken !== undefined));
}
