import { readFile } from 'node:fs/promises';
import { CliError } from '../errors';
import { describeAdded } from '../format';
import { type CommandContext, print } from './context';

/** `fsm add <file>`: adds a machine from a JSON definition file, or standard input for `-`. */
export async function add(ctx: CommandContext, file: string, stdin: () => Promise<string> = readStdin): Promise<void> {
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
  const machine = await ctx.api.addMachine(definition);
  print(ctx, machine, () => describeAdded(machine));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
