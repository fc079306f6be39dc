import type { ListQuery } from '../../client/apiClient';
import { machineTable } from '../format';
import { type CommandContext, print } from './context';

export interface ListOptions {
  /** One status, a comma list of them, or `all` (any case); the API checks it. */
  status?: string;
  /** Follow nextToken to the end instead of printing one page (--all-pages). */
  all: boolean;
  /** Page size as typed; the API checks it. */
  limit: string;
}

/** `fsm list`: machines newest first; the alive ones unless --status says otherwise (`all`: every status). */
export async function list(ctx: CommandContext, options: ListOptions): Promise<void> {
  const status = options.status?.toUpperCase() as ListQuery['status'];
  const query = { ...(status ? { status } : {}), limit: Number(options.limit) };
  if (options.all) {
    const items = await ctx.api.listAll(query);
    print(ctx, { items }, () => machineTable(items));
    return;
  }
  const { items, nextToken } = await ctx.api.listPage(query);
  print(ctx, { items, nextToken }, () => machineTable(items, nextToken !== undefined));
}
