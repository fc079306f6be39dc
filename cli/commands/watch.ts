import { ApiError } from '../../client/apiClient';
import { pollUntil } from '../../client/poll';
import type { MachineView } from '../../domain/machine';
import { isFinished } from '../../domain/status';
import { CliError } from '../errors';
import { describeOutcome, describeWatchedEvent, describeWatching } from '../format';
import type { CommandContext } from './context';

/**
 * `fsm watch <id>`: prints each new event until the machine has finished; returns the exit code,
 * 0 when it SUCCEEDED and 1 when it FAILED. A machine deleted meanwhile is an error.
 */
export async function watch(ctx: CommandContext, id: string, options: { intervalMs: number }): Promise<number> {
  const first = await ctx.api.getMachine(id);
  ctx.write(ctx.json ? JSON.stringify({ watching: id }) : describeWatching(id, first));
  let unread: MachineView | undefined = first;
  let seen = -1;
  const current = async (): Promise<MachineView> => {
    try {
      return await ctx.api.getMachine(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) throw new CliError(`${id} was deleted`);
      throw error;
    }
  };
  const machine = await pollUntil(
    async () => {
      const read = unread ?? (await current());
      unread = undefined;
      const { events } = await ctx.api.history(id);
      for (const event of events.filter((e) => e.seq > seen)) {
        ctx.write(ctx.json ? JSON.stringify(event) : describeWatchedEvent(event, first.createdAt));
        seen = event.seq;
      }
      return read;
    },
    (read) => isFinished(read.status),
    { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: options.intervalMs, what: `${id} to finish` },
  );
  ctx.write(ctx.json ? JSON.stringify(machine) : describeOutcome(machine));
  return machine.status === 'SUCCEEDED' ? 0 : 1;
}
