import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePorts, type StackPorts, scratchBuildDir } from '../../helpers/localStack';

/** The environment of a fresh machine: no AWS credentials, no region, nothing AWS at all. */
function freshEnv(ports: StackPorts): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return {
    ...env,
    FSM_HTTP_PORT: String(ports.http),
    FSM_LAMBDA_PORT: String(ports.lambda),
    FSM_DYNAMODB_PORT: String(ports.dynamodb),
    FSM_SQS_PORT: String(ports.sqs),
    FSM_BUILD_DIR: scratchBuildDir(`start-${ports.http}`),
  };
}

/** A command as a newcomer types it, in a terminal of its own (its own process group). */
class Terminal {
  output = '';
  readonly child: ChildProcess;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk) => {
      this.output += chunk;
    });
    this.child.stderr?.on('data', (chunk) => {
      this.output += chunk;
    });
  }

  async waitFor(text: string, timeoutMs = 90_000) {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline || this.child.exitCode !== null) expect.fail(`"${text}" never came:\n${this.output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** Ctrl-C: the terminal signals the whole foreground process group. */
  async ctrlC(): Promise<string> {
    const exited = new Promise<string>((resolve) =>
      this.child.once('exit', (code, signal) => resolve(`${code ?? signal}`)),
    );
    process.kill(-(this.child.pid as number), 'SIGINT');
    return exited;
  }

  kill() {
    try {
      if (this.child.exitCode === null && this.child.signalCode === null)
        process.kill(-(this.child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

async function addExample(api: string, delay: number): Promise<string> {
  const definition = JSON.parse(await readFile('examples/fsm.json', 'utf8'));
  const added = await fetch(`${api}/machines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...definition, object: { ...definition.object, delay } }),
  });
  expect(added.status).to.equal(201);
  return ((await added.json()) as { id: string }).id;
}

async function waitForMachine(
  api: string,
  id: string,
  done: (m: { status: string; version: number }) => boolean,
  terminal: Terminal,
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const machine = (await (await fetch(`${api}/machines/${id}`)).json()) as { status: string; version: number };
    if (done(machine)) return machine;
    if (Date.now() > deadline) expect.fail(`machine ${id} is ${JSON.stringify(machine)}:\n${terminal.output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Until one pass over `ids` finds no handler running. */
async function betweenSteps(api: string, ids: string[]) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const running = await Promise.all(
      ids.map(
        async (id) =>
          ((await (await fetch(`${api}/machines/${id}`)).json()) as { handlerRunning?: boolean }).handlerRunning,
      ),
    );
    if (!running.includes(true) || Date.now() > deadline) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function nothingListens(ports: StackPorts) {
  await new Promise((resolve) => setTimeout(resolve, 1000));
  for (const port of Object.values(ports)) {
    const stillThere = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    expect(stillThere, `port ${port}`).to.equal(false);
  }
}

for (const [title, command, args] of [
  ['npm start', 'npm', ['start']],
  ['npx sls offline start', 'npx', ['sls', 'offline', 'start']],
] as const) {
  describe(`${title} (as the README runs it, on a machine with no AWS settings)`, function () {
    this.timeout(150_000);
    let terminal: Terminal | undefined;
    let ports: StackPorts;

    afterEach(async () => {
      terminal?.kill();
      await rm(scratchBuildDir(`start-${ports.http}`), { recursive: true, force: true });
    });

    it('brings the whole service up, runs examples/fsm.json to SUCCEEDED, and stops everything on Ctrl-C', async () => {
      ports = await freePorts();
      terminal = new Terminal(command, [...args], freshEnv(ports));
      await terminal.waitFor('Press Ctrl-C to stop.');
      const api = `http://127.0.0.1:${ports.http}`;
      expect(terminal.output).to.include(`API        ${api}`);
      const id = await addExample(api, 0);
      await waitForMachine(api, id, (m) => m.status === 'SUCCEEDED', terminal);
      expect(await terminal.ctrlC()).to.be.oneOf(['0', 'SIGINT']);
      await nothingListens(ports);
    });
  });
}

describe('npm start -- --persist (a crash in the middle of a run)', function () {
  this.timeout(180_000);
  let terminal: Terminal | undefined;
  let ports: StackPorts;
  let dataDir: string;

  afterEach(async () => {
    terminal?.kill();
    await rm(scratchBuildDir(`start-${ports.http}`), { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the machines and their queued steps through kill -9: 10 machines stopped mid-run resume and SUCCEED once', async () => {
    ports = await freePorts();
    dataDir = await mkdtemp(join(tmpdir(), 'fsm-persist-'));
    const start = () => new Terminal('npm', ['start', '--', '--persist', '--dataDir', dataDir], freshEnv(ports));
    const api = `http://127.0.0.1:${ports.http}`;

    terminal = start();
    await terminal.waitFor('Press Ctrl-C to stop.');
    // Each step waits 3 s: crash while their next steps are delayed messages in the queue. One
    // add after another, as ten at once would start ten add functions' worker threads together,
    // and on a loaded CI machine one's start outlasted the function's 10 s timeout (503).
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await addExample(api, 3));
    for (const id of ids) await waitForMachine(api, id, (m) => m.version >= 1, terminal);
    // Crash between steps, when every step is a message in the queue (what the journal keeps): a
    // step whose handler runs at the crash would wait out its 70 s lease (npm run crash-test
    // crashes mid-handler too).
    await betweenSteps(api, ids);
    const crashed = new Promise((resolve) => terminal?.child.once('exit', resolve));
    terminal.kill();
    await crashed;
    await nothingListens(ports);

    terminal = start();
    await terminal.waitFor('Press Ctrl-C to stop.');
    expect(terminal.output).to.match(/[1-9]\d* message\(s\) restored/);
    for (const id of ids) {
      // A step whose handler started in the moment before the crash waits for its lease (70 s).
      const machine = await waitForMachine(api, id, (m) => m.status !== 'RUNNING', terminal, 100_000);
      expect(machine.status).to.equal('SUCCEEDED');
      const { events } = (await (await fetch(`${api}/machines/${id}/history`)).json()) as {
        events: { outcome: string }[];
      };
      expect(events.map((e) => e.outcome)).to.deep.equal([
        'created',
        'transition',
        'transition',
        'transition',
        'succeeded',
      ]);
    }
    expect(await terminal.ctrlC()).to.be.oneOf(['0', 'SIGINT']);
  });
});
