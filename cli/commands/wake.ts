import { ApiError } from '../../client/apiClient';
import { CliError } from '../errors';
import { describeApiError, describeWoken } from '../format';
import { type CommandContext, print } from './context';

/** `fsm wake <id>`: a RUNNING machine waiting on a delay runs its next step now. */
export async function wake(ctx: CommandContext, id: string): Promise<void> {
  const machine = await ctx.api.wake(id).catch((error: unknown) => {
    // A PARKED machine waits for no delay but for a resume: say so.
    if (error instanceof ApiError && error.status === 409 && parkedIn(error)) {
      throw new CliError(`${describeApiError(error)}; a PARKED machine runs on with: fsm resume ${id}`);
    }
    throw error;
  });
  print(ctx, machine, () => describeWoken(id, machine));
}

const parkedIn = (error: ApiError) =>
  (error.body as { details?: { status?: string } } | undefined)?.details?.status === 'PARKED';
