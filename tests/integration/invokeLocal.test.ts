import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { api } from '../helpers/api';
import { SLS_BIN, scratchBuildDir, slsEnv } from '../helpers/localStack';
import { currentStack } from '../helpers/stack';

const run = promisify(execFile);

describe('sls invoke local', function () {
  this.timeout(120_000);

  it('runs the add function with examples/events/add-machine.json against the local stack', async () => {
    const build = scratchBuildDir('invoke');
    const { stdout } = await run(
      process.execPath,
      [
        SLS_BIN,
        'invoke',
        'local',
        '-f',
        'addMachine',
        '--stage',
        'local',
        '--path',
        'examples/events/add-machine.json',
      ],
      { env: slsEnv(currentStack().ports, { FSM_BUILD_DIR: build }) },
    ).finally(() => rm(build, { recursive: true, force: true }));
    // Only the response, so the output pipes to jq (no EMF metrics line before it).
    const response = JSON.parse(stdout);
    expect(response.statusCode).to.be.oneOf([200, 201]);
    const machine = JSON.parse(response.body);
    expect(machine.id).to.equal('example-order-42');
    const fetched = await api('GET', '/machines/example-order-42');
    expect(fetched.status).to.equal(200);
  });
});
