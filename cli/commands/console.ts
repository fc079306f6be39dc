import { type ConsoleOptions, type RunningConsole, startConsole } from '../../console/server';
import { CliError } from '../errors';
import type { CommandContext } from './context';

export interface ConsoleCommandOptions {
  port: string;
  open: boolean;
}

/**
 * `fsm console`: starts the web console on 127.0.0.1 against the API of --endpoint, prints its
 * URL (with the per-start token) and opens it in the browser unless --no-open; runs until
 * Ctrl-C. Returns the running console (tests stop it themselves).
 */
export async function consoleCommand(
  ctx: CommandContext,
  options: ConsoleCommandOptions,
  start: (options: ConsoleOptions) => Promise<RunningConsole> = startConsole,
): Promise<RunningConsole> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be 0-65535, not ${options.port}`);
  const running = await start({
    endpoint: ctx.api.endpoint,
    port,
    openBrowser: options.open,
    ...(ctx.transformRequest ? { transformRequest: ctx.transformRequest } : {}),
  });
  if (ctx.json) {
    ctx.write(JSON.stringify({ url: running.url, endpoint: running.endpoint }));
  } else {
    ctx.write(
      `console for ${running.endpoint}\n  ${running.url}\n(only this URL opens it: it holds this run's token; Ctrl-C stops the console)`,
    );
  }
  return running;
}
