import { readFileSync } from 'node:fs';
import type { MachineView } from '../../domain/machine';
import { CliError } from '../errors';
import { type CommandContext, print } from './context';
import { parseJsonOption } from './resume';

const answered = (what: string, m: MachineView) => `${what} ${m.id} (${m.status}, state ${m.state})`;

/**
 * `fsm callback <token>`: answers the park the token belongs to (docs/design.md "Callbacks"):
 * resumes it, with --object (a JSON file) as its new data or in --state, or with --fail fails it.
 */
export async function callback(
  ctx: CommandContext,
  token: string,
  options: { object?: string; state?: string; fail?: string },
): Promise<void> {
  if (options.fail !== undefined) {
    if (options.object !== undefined || options.state !== undefined) {
      throw new CliError('--fail fails the wait: it takes no --object or --state');
    }
    const machine = await ctx.api.callbackFail({ token, error: options.fail });
    print(ctx, machine, () => answered('failed the wait of', machine));
    return;
  }
  const request: { token: string; object?: unknown; state?: string } = { token };
  if (options.object !== undefined) request.object = parseJsonOption('--object', readObjectFile(options.object));
  if (options.state !== undefined) request.state = options.state;
  const machine = await ctx.api.callback(request);
  print(ctx, machine, () => answered('resumed', machine));
}

/** `fsm heartbeat <token>`: restarts the heartbeat clock of the park the token belongs to. */
export async function heartbeat(ctx: CommandContext, token: string): Promise<void> {
  const machine = await ctx.api.heartbeat({ token });
  print(ctx, machine, () => `heartbeat for ${machine.id}: next due by ${machine.wait?.heartbeatAt ?? '-'}`);
}

function readObjectFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--object: cannot read ${path}: ${(error as Error).message}`);
  }
}
