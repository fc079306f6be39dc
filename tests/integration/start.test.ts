import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import { freePort } from '../../scripts/localStack';

/** The environment of a fresh machine: no AWS credentials, no region. */
function freshEnv(ports: Record<string, number>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_')) delete env[key];
  return {
    ...env,
    FSM_HTTP_PORT: String(ports.http),
    FSM_LAMBDA_PORT: String(ports.lambda),
    FSM_DYNAMODB_PORT: String(ports.dynamodb),
    FSM_SQS_PORT: String(ports.sqs),
  };
}

describe('npm start (the README start command)', function () {
  this.timeout(120_000);
  let child: ChildProcess | undefined;
  let output = '';

  afterEach(() => {
    try {
      if (child?.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  });

  it('brings the API up, runs examples/fsm.json to SUCCEEDED, and stops everything on Ctrl-C', async () => {
    const ports = {
      http: await freePort(),
      lambda: await freePort(),
      dynamodb: await freePort(),
      sqs: await freePort(),
    };
    child = spawn('npm', ['start'], { env: freshEnv(ports), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const deadline = Date.now() + 90_000;
    while (!output.includes('Press Ctrl-C to stop.')) {
      if (Date.now() > deadline || child.exitCode !== null) expect.fail(`npm start did not come up:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const api = `http://127.0.0.1:${ports.http}`;
    expect(output).to.include(`API        ${api}`);

    const definition = JSON.parse(await readFile('examples/fsm.json', 'utf8'));
    const added = await fetch(`${api}/machines`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...definition, object: { ...definition.object, delay: 0 } }),
    });
    expect(added.status).to.equal(201);
    const { id } = (await added.json()) as { id: string };
    let status = '';
    while (status !== 'SUCCEEDED') {
      if (Date.now() > deadline) expect.fail(`the machine did not finish (status ${status}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = ((await (await fetch(`${api}/machines/${id}`)).json()) as { status: string }).status;
    }

    // Ctrl-C in a terminal signals the whole foreground process group: npm and what it started.
    const exited = new Promise<string>((resolve) =>
      child?.once('exit', (code, signal) => resolve(`${code ?? signal}`)),
    );
    process.kill(-(child.pid as number), 'SIGINT');
    expect(await exited).to.be.oneOf(['0', 'SIGINT']);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // Nothing of it is left listening.
    for (const port of Object.values(ports)) {
      const stillThere = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then(
        () => true,
        () => false,
      );
      expect(stillThere, `port ${port}`).to.equal(false);
    }
  });
});
