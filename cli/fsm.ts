/** The `fsm` command: commander wiring only; each command's logic is in cli/commands/, its text in cli/format.ts. */
import { Command, Option } from 'commander';
import { ApiClient } from '../client/apiClient';
import { AUTH_MODES, requestTransformFor } from '../client/sign';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/limits';
import { STATUSES } from '../domain/status';
import { add } from './commands/add';
import { callback, heartbeat } from './commands/callback';
import { consoleCommand } from './commands/console';
import type { CommandContext } from './commands/context';
import { deleteMachine } from './commands/delete';
import { diagram } from './commands/diagram';
import { get } from './commands/get';
import { history } from './commands/history';
import { list } from './commands/list';
import { redrive } from './commands/redrive';
import { resume } from './commands/resume';
import { wake } from './commands/wake';
import { watch } from './commands/watch';
import { failure } from './errors';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

const program = new Command()
  .name('fsm')
  .description('Drive serverless-statemachine: the local stack (npm start) or a deployed API.')
  .addOption(new Option('--endpoint <url>', 'API base URL').env('FSM_ENDPOINT').default(DEFAULT_ENDPOINT))
  .addOption(
    new Option(
      '--auth <mode>',
      'how to authenticate: iam (SigV4 with the AWS credential chain), jwt (bearer --token) or none; default iam for *.execute-api.*.amazonaws.com, none otherwise',
    )
      .choices(AUTH_MODES)
      .env('FSM_AUTH'),
  )
  .addOption(new Option('--token <jwt>', 'bearer token for --auth jwt').env('FSM_TOKEN'))
  .option('--json', 'print JSON for scripts instead of tables', false)
  .showHelpAfterError();

function context(): CommandContext {
  const { endpoint, json, auth, token } = program.opts<{
    endpoint: string;
    json: boolean;
    auth?: string;
    token?: string;
  }>();
  const transformRequest = requestTransformFor({ endpoint, auth, token });
  return {
    api: new ApiClient({ endpoint, ...(transformRequest ? { transformRequest } : {}) }),
    ...(transformRequest ? { transformRequest } : {}),
    json,
    write: (text) => console.log(text),
    // On a terminal, one line rewritten in place; elsewhere (logs, CI) nothing.
    ...(process.stderr.isTTY ? { progress: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
  };
}

program
  .command('add')
  .description('add a machine from a JSON definition file (the original fsm.json works as is)')
  .argument('<file>', 'definition file, or - for standard input')
  .option('--at <time>', 'run its first step no earlier than this time (ISO 8601, at most a year ahead)')
  .option('--in <seconds>', 'run its first step this many seconds from now')
  .action((file: string, options: { at?: string; in?: string }) => add(context(), file, undefined, options));

program
  .command('list')
  .description('list machines, newest first (default: the alive ones, RUNNING and PARKED)')
  .option('--status <status>', `only this status (${STATUSES.join(', ')}), a comma list of them, or all`)
  .option('--all-pages', 'every page (follows nextToken to the end), not every status: that is --status all', false)
  .addOption(new Option('--all', 'the same as --all-pages').hideHelp())
  .option('--limit <n>', `page size (1-${MAX_PAGE_SIZE})`, String(DEFAULT_PAGE_SIZE))
  .action((options: { status?: string; allPages: boolean; all?: boolean; limit: string }) =>
    list(context(), { ...options, all: options.allPages || options.all === true }),
  );

program
  .command('get')
  .description('show a machine')
  .argument('<id>')
  .action((id: string) => get(context(), id));

program
  .command('history')
  .description("show a machine's events, oldest first")
  .argument('<id>')
  .action((id: string) => history(context(), id));

program
  .command('diagram')
  .description(
    "print a machine's Mermaid state diagram, or with --svg the same drawn as SVG (fsm diagram <id> --svg > m.svg)",
  )
  .argument('<id>')
  .option('--svg', 'print SVG, the current state highlighted', false)
  .action((id: string, options: { svg: boolean }) => diagram(context(), id, options));

program
  .command('delete')
  .description('delete a machine (now, or when its running step ends)')
  .argument('<id>')
  .action((id: string) => deleteMachine(context(), id));

program
  .command('resume')
  .description('wake a PARKED machine')
  .argument('<id>')
  .option('--object <json>', 'replace its data')
  .option('--state <state>', 'continue in this state instead')
  .action((id: string, options: { object?: string; state?: string }) => resume(context(), id, options));

program
  .command('callback')
  .description('answer a park by its callback token: resume it (--object, --state) or fail it (--fail)')
  .argument('<token>')
  .option('--object <file>', 'a JSON file: its new data')
  .option('--state <state>', 'continue in this state instead')
  .option('--fail <message>', 'fail the wait with this error instead (catch, else FAILED)')
  .action((token: string, options: { object?: string; state?: string; fail?: string }) =>
    callback(context(), token, options),
  );

program
  .command('heartbeat')
  .description('restart the heartbeat clock of a park, by its callback token')
  .argument('<token>')
  .action((token: string) => heartbeat(context(), token));

program
  .command('redrive')
  .description(
    'put a FAILED machine back to RUNNING at its failed state, with a fresh retry budget; or, with --status FAILED, every FAILED machine (that failed --since a time)',
  )
  .argument('[id]', 'the machine (or use --status FAILED for many)')
  .option('--object <json>', 'replace its data')
  .option('--state <state>', 'continue in this state instead of the failed one')
  .option('--status <status>', 'redrive every machine with this status: FAILED')
  .option('--since <time>', 'with --status: only those that failed since this time (ISO 8601) or 30m, 6h, 2d ago')
  .option('--rate <n>', 'with --status: redrives per second', '5')
  .action(async (id: string | undefined, options: Record<string, string | undefined>) => {
    const ctx = context();
    process.exitCode = await redrive(ctx, id, options);
    if (ctx.progress && options.status !== undefined) process.stderr.write('\n');
  });

program
  .command('wake')
  .description('run the next step of a RUNNING machine now: one waiting on a delay or backoff, or overdue')
  .argument('<id>')
  .action((id: string) => wake(context(), id));

program
  .command('watch')
  .description(
    'follow a machine live, one line per step (time since it was added); exits 0 when it SUCCEEDED, 1 when it FAILED or was deleted',
  )
  .argument('<id>')
  .option('--interval <ms>', 'poll interval', '500')
  .action(async (id: string, options: { interval: string }) => {
    process.exitCode = await watch(context(), id, { intervalMs: Number(options.interval) });
  });

program
  .command('console')
  .description('open the web console for the API (127.0.0.1 only; machines live, diagrams, history, actions)')
  .option('--port <n>', 'port on 127.0.0.1 (0: any free one)', '0')
  .option('--no-open', 'print the URL but do not open a browser')
  .action(async (options: { port: string; open: boolean }) => {
    const running = await consoleCommand(context(), options);
    const stop = () => {
      void running.stop().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

program.parseAsync().catch((error: unknown) => {
  const { message, exitCode } = failure(error);
  console.error(`fsm: ${message}`);
  process.exitCode = exitCode;
});
