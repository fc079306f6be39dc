import { ApiError, type RedriveRequest } from '../../client/apiClient';
import type { MachineSummary } from '../../domain/machine';
import { CliError } from '../errors';
import { type BulkRedriveSummary, describeApiError, describeBulkRedrive, describeRedriven } from '../format';
import { type CommandContext, print } from './context';
import { parseJsonOption } from './resume';

export interface RedriveOptions {
  object?: string;
  state?: string;
  /** Bulk: redrive every machine with this status (only FAILED can be redriven). */
  status?: string;
  /** Bulk: only machines that failed at or after this time (ISO 8601, or 30m, 6h, 2d ago). */
  since?: string;
  /** Bulk: redrives per second. */
  rate?: string;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: an ISO 8601 time, or a duration ago (`90s`, `30m`, `6h`, `2d`), as epoch ms. */
export function parseSince(text: string, now: number): number {
  const ago = /^(\d+)([smhd])$/.exec(text);
  if (ago) return now - Number(ago[1]) * (UNITS[ago[2] as string] as number);
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new CliError(`--since '${text}' is neither a time (2026-01-31T12:00:00Z) nor 30m, 6h, 2d`);
  return at;
}

/**
 * `fsm redrive <id>`: puts a FAILED machine back to RUNNING. `fsm redrive --status FAILED
 * [--since T]`: every FAILED machine (that failed since T), listed page by page, then redriven
 * one at a time at `--rate` per second, with progress on standard error and a summary at the end.
 * Machines that are no longer FAILED (or gone) by then are skipped, not errors.
 */
export async function redrive(
  ctx: CommandContext,
  id: string | undefined,
  options: RedriveOptions,
  clock: { now: () => number; sleep: (ms: number) => Promise<void> } = {
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  },
): Promise<number> {
  const request: RedriveRequest = {};
  if (options.object !== undefined) request.object = parseJsonOption('--object', options.object);
  if (options.state !== undefined) request.state = options.state;
  if (id !== undefined) {
    if (options.status !== undefined || options.since !== undefined) {
      throw new CliError('give either a machine id or --status FAILED [--since T], not both');
    }
    const machine = await ctx.api.redrive(id, request);
    print(ctx, machine, () => describeRedriven(id, machine));
    return 0;
  }
  if (options.status?.toUpperCase() !== 'FAILED') {
    throw new CliError('give a machine id, or --status FAILED to redrive many (only FAILED machines can be redriven)');
  }
  const since = options.since === undefined ? undefined : parseSince(options.since, clock.now());
  const rate = Number(options.rate ?? '5');
  if (!(rate > 0)) throw new CliError(`--rate '${options.rate}' must be a positive number of redrives per second`);

  const found: MachineSummary[] = [];
  for await (const page of ctx.api.pages({ status: 'FAILED', limit: 100 })) {
    found.push(...page.items.filter((item) => since === undefined || Date.parse(item.updatedAt) >= since));
    ctx.progress?.(`listing FAILED machines: ${found.length} found`);
  }
  const summary: BulkRedriveSummary = { found: found.length, redriven: [], skipped: [], failed: [] };
  const interval = 1000 / rate;
  for (const [i, machine] of found.entries()) {
    const started = clock.now();
    try {
      await ctx.api.redrive(machine.id, request);
      summary.redriven.push(machine.id);
    } catch (error) {
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        summary.skipped.push({ id: machine.id, reason: describeApiError(error) });
      } else {
        summary.failed.push({ id: machine.id, reason: (error as Error).message });
      }
    }
    ctx.progress?.(`redriving: ${i + 1}/${found.length} (${summary.redriven.length} redriven)`);
    const wait = interval - (clock.now() - started);
    if (i + 1 < found.length && wait > 0) await clock.sleep(wait);
  }
  print(ctx, summary, () => describeBulkRedrive(summary));
  return summary.failed.length > 0 ? 1 : 0;
}
