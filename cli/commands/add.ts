import { readFile } from 'node:fs/promises';
import { CliError } from '../errors';
import { describeAdded } from '../format';
import { type CommandContext, print } from './context';

/**
 * `fsm add <file>`: adds a machine from a JSON definition file, or standard input for `-`;
 * `--at <time>` / `--in <seconds>` start it later (`startAt` / `startDelay`, docs/design.md "Start later").
 */
export async function add(
  ctx: CommandContext,
  file: string,
  stdin: () => Promise<string> = readStdin,
  start: { at?: string; in?: string } = {},
): Promise<void> {
  let text: string;
  try {
    text = file === '-' ? await stdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (start.at !== undefined && start.in !== undefined) throw new CliError('give --at or --in, not both');
  if (start.at !== undefined) definition = { ...(definition as object), startAt: start.at };
  if (start.in !== undefined) {
    const seconds = Number(start.in);
    if (!Number.isInteger(seconds) || seconds < 0) throw new CliError('--in must be a whole number of seconds');
    definition = { ...(definition as object), startDelay: seconds };
  }
  const machine = await ctx.api.addMachine(definition);
  print(ctx, machine, () => describeAdded(machine));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
