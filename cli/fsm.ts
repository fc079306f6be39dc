import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { type HistoryEvent, isFinished, type MachineSummary, type MachineView } from '../domain/machine';
import { type ApiClient, apiClient, CliError } from './client';

const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';

const program = new Command()
  .name('fsm')
  .description('Drive serverless-statemachine: the local stack (npm start) or a deployed API.')
  .addOption(new Option('--endpoint <url>', 'API base URL').env('FSM_ENDPOINT').default(DEFAULT_ENDPOINT))
  .option('--json', 'print JSON for scripts instead of tables', false)
  .showHelpAfterError();

function client(): ApiClient {
  return apiClient(program.opts<{ endpoint: string }>().endpoint);
}

const asJson = () => program.opts<{ json: boolean }>().json;

function print(value: unknown, human: () => string) {
  console.log(asJson() ? JSON.stringify(value, null, 2) : human());
}

function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join(
    '\n',
  );
}

function describeMachine(m: MachineView): string {
  const lines = [
    `id        ${m.id}${m.name && m.name !== m.id ? ` (${m.name})` : ''}`,
    `status    ${m.status}${m.handlerRunning ? ' (handler running)' : ''}${m.removing ? ' (being removed)' : ''}`,
    `state     ${m.state}`,
    `version   ${m.version}  attempt ${m.attempt}`,
    `created   ${m.createdAt}`,
    `updated   ${m.updatedAt}`,
  ];
  if (m.wakeAt) lines.push(`wakes at  ${m.wakeAt}`);
  if (m.finishedAt) lines.push(`finished  ${m.finishedAt}`);
  if (m.error) lines.push(`error     ${m.error.message} (in ${m.error.state})`);
  lines.push(`object    ${JSON.stringify(m.object)}`);
  return lines.join('\n');
}

function describeEvent(e: HistoryEvent): string {
  const move = e.to !== undefined && e.from !== undefined ? `${e.from} -> ${e.to}` : (e.from ?? e.to ?? '');
  const extras = [
    e.delay ? `delay ${e.delay}s` : '',
    e.outcome === 'retry' || e.outcome === 'failed' ? `attempt ${e.attempt}` : '',
    e.error ? `error: ${e.error}` : '',
  ].filter(Boolean);
  return `v${e.version} ${e.outcome.padEnd(10)} ${move}${extras.length ? `  (${extras.join(', ')})` : ''}`;
}

program
  .command('add')
  .description('add a machine from a JSON definition file (the original fsm.json works as is)')
  .argument('<file>', 'definition file, or - for standard input')
  .action(async (file: string) => {
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
    }
    let definition: unknown;
    try {
      definition = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
    const machine = await client().request<MachineView>('POST', '/machines', definition);
    print(machine, () => `added ${machine.id} (${machine.status}, state ${machine.state})`);
  });

program
  .command('list')
  .description('list machines, newest first (default: the alive ones, RUNNING and PARKED)')
  .addOption(new Option('--status <status>', 'only this status').choices(['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED']))
  .option('--all', 'follow nextToken to the end', false)
  .option('--limit <n>', 'page size (1-100)', '25')
  .action(async (options: { status?: string; all: boolean; limit: string }) => {
    const items: MachineSummary[] = [];
    let nextToken: string | undefined;
    do {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set('status', options.status);
      if (nextToken) query.set('nextToken', nextToken);
      const page = await client().request<{ items: MachineSummary[]; nextToken?: string }>('GET', `/machines?${query}`);
      items.push(...page.items);
      nextToken = page.nextToken;
    } while (options.all && nextToken);
    print(options.all ? { items } : { items, nextToken }, () => {
      const rows = table(items as unknown as Record<string, unknown>[], [
        'id',
        'name',
        'status',
        'state',
        'version',
        'createdAt',
      ]);
      return !options.all && nextToken ? `${rows}\n(more: use --all)` : rows;
    });
  });

program
  .command('get')
  .description('show a machine')
  .argument('<id>')
  .action(async (id: string) => {
    const machine = await client().request<MachineView>('GET', `/machines/${encodeURIComponent(id)}`);
    print(machine, () => describeMachine(machine));
  });

program
  .command('history')
  .description("show a machine's events, oldest first")
  .argument('<id>')
  .action(async (id: string) => {
    const history = await client().request<{ events: HistoryEvent[] }>(
      'GET',
      `/machines/${encodeURIComponent(id)}/history`,
    );
    print(history, () => history.events.map((e) => `${e.at}  ${describeEvent(e)}`).join('\n'));
  });

program
  .command('diagram')
  .description("print a machine's Mermaid state diagram")
  .argument('<id>')
  .action(async (id: string) => {
    const text = await client().text(`/machines/${encodeURIComponent(id)}/diagram`);
    print({ id, mermaid: text }, () => text.trimEnd());
  });

program
  .command('delete')
  .description('delete a machine (now, or when its running step ends)')
  .argument('<id>')
  .action(async (id: string) => {
    const result = await client().request<{ removing?: boolean }>('DELETE', `/machines/${encodeURIComponent(id)}`);
    const deleted = { id, deleted: !result.removing, removing: result.removing === true };
    print(deleted, () => (deleted.removing ? `${id} will be deleted when its running step ends` : `deleted ${id}`));
  });

program
  .command('resume')
  .description('wake a PARKED machine')
  .argument('<id>')
  .option('--object <json>', 'replace its data')
  .option('--state <state>', 'continue in this state instead')
  .action(async (id: string, options: { object?: string; state?: string }) => {
    const body: Record<string, unknown> = {};
    if (options.object !== undefined) {
      try {
        body.object = JSON.parse(options.object);
      } catch (error) {
        throw new CliError(`--object is not valid JSON: ${(error as Error).message}`);
      }
    }
    if (options.state !== undefined) body.state = options.state;
    const machine = await client().request<MachineView>('POST', `/machines/${encodeURIComponent(id)}/resume`, body);
    print(machine, () => `resumed ${id} (${machine.status}, state ${machine.state})`);
  });

program
  .command('watch')
  .description(
    'follow a machine live, one line per step (time since it was added); exits 0 when it SUCCEEDED, 1 when it FAILED or was deleted',
  )
  .argument('<id>')
  .option('--interval <ms>', 'poll interval', '500')
  .action(async (id: string, options: { interval: string }) => {
    const api = client();
    const path = `/machines/${encodeURIComponent(id)}`;
    let seen = -1;
    let machine = await api.request<MachineView>('GET', path);
    const created = Date.parse(machine.createdAt);
    const elapsed = (at: string) => `+${((Date.parse(at) - created) / 1000).toFixed(1)}s`.padStart(8);
    console.log(
      asJson() ? JSON.stringify({ watching: id }) : `watching ${id} (state ${machine.state}, ${machine.status})`,
    );
    for (;;) {
      const { events } = await api.request<{ events: HistoryEvent[] }>('GET', `${path}/history`);
      for (const event of events.filter((e) => e.seq > seen)) {
        console.log(asJson() ? JSON.stringify(event) : `${elapsed(event.at)}  ${describeEvent(event)}`);
        seen = event.seq;
      }
      if (isFinished(machine.status)) break;
      await new Promise((resolve) => setTimeout(resolve, Number(options.interval)));
      try {
        machine = await api.request<MachineView>('GET', path);
      } catch (error) {
        if (error instanceof CliError && /HTTP 404/.test(error.message)) throw new CliError(`${id} was deleted`);
        throw error;
      }
    }
    const summary = `${machine.status} in state ${machine.state} after ${machine.version} steps${machine.error ? `: ${machine.error.message}` : ''}`;
    console.log(asJson() ? JSON.stringify(machine) : summary);
    process.exitCode = machine.status === 'SUCCEEDED' ? 0 : 1;
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`fsm: ${error.message}`);
    process.exitCode = error.exitCode;
  } else {
    console.error(`fsm: ${(error as Error).message}`);
    process.exitCode = 1;
  }
});
