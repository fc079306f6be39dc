import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { exampleWorkflow } from '../helpers/api';
import { type FsmRun, fsm } from '../helpers/fsm';
import { freePort } from '../helpers/localStack';

describe('the fsm CLI', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsm-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds a machine, watches it to SUCCEEDED (exit 0), and shows it, its history and its diagram', async () => {
    const file = join(dir, 'fsm.json');
    await writeFile(file, JSON.stringify(exampleWorkflow({ branch: 'b' })));
    const added = await fsm('add', file, '--json');
    expect(added.code, added.stderr).to.equal(0);
    const { id } = JSON.parse(added.stdout);

    const watched = await fsm('watch', id, '--interval', '100');
    expect(watched.code, watched.stderr).to.equal(0);
    expect(watched.stdout).to.match(/v1 transition +START -> TASK-1/);
    expect(watched.stdout).to.match(/v3 transition +TASK-2b -> FINALIZE/);
    expect(watched.stdout.trimEnd().split('\n').at(-1)).to.equal('SUCCEEDED in state FINALIZE after 4 steps');

    const shown = await fsm('get', id);
    expect(shown.stdout).to.match(/^status +SUCCEEDED$/m);
    const history = await fsm('history', id, '--json');
    expect(JSON.parse(history.stdout).events.map((e: any) => e.outcome)).to.deep.equal([
      'created',
      'transition',
      'transition',
      'transition',
      'succeeded',
    ]);
    const diagram = await fsm('diagram', id);
    expect(diagram.stdout).to.match(/^stateDiagram-v2$/m);
    const listed = await fsm('list', '--status', 'SUCCEEDED', '--all', '--limit', '2', '--json');
    expect(JSON.parse(listed.stdout).items.map((m: any) => m.id)).to.include(id);
    const human = await fsm('list', '--status', 'SUCCEEDED', '--limit', '100');
    expect(human.stdout.split('\n')[0]).to.match(/^ID +NAME +STATUS +STATE +VERSION +CREATEDAT$/);
  });

  it('exits 1 from watch when the machine FAILED', async () => {
    const file = join(dir, 'garbage.json');
    await writeFile(file, JSON.stringify({ state: 'S', config: { S: 'garbage' } }));
    const { id } = JSON.parse((await fsm('add', file, '--json')).stdout);
    const watched = await fsm('watch', id, '--interval', '100');
    expect(watched.code).to.equal(1);
    expect(watched.stdout).to.match(/FAILED in state S after 1 steps: malformed handler result/);
  });

  it('parks, resumes with new data and deletes', async () => {
    const file = join(dir, 'park.json');
    await writeFile(file, JSON.stringify({ state: 'S', config: { S: 'park', T: 'sleepy' }, object: { next: 'T' } }));
    const { id } = JSON.parse((await fsm('add', file, '--json')).stdout);
    let shown: FsmRun;
    do shown = await fsm('get', id, '--json');
    while (JSON.parse(shown.stdout).status !== 'PARKED');
    const resumed = await fsm('resume', id, '--object', '{"sleepMs": 3000}');
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stdout).to.equal(`resumed ${id} (RUNNING, state T)\n`);
    const again = await fsm('resume', id);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/^fsm: .*not PARKED \(HTTP 409\)\n$/);
    const deleted = await fsm('delete', id);
    expect(deleted.code, deleted.stderr).to.equal(0);
    expect(deleted.stdout).to.match(
      new RegExp(`^(deleted ${id}|${id} will be deleted when its running step ends)\\n$`),
    );
  });

  it('prints one-line errors: validation with the field, 404, bad files, unreachable endpoint', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ state: 'NOPE', config: { START: 'prepare' } }));
    const invalid = await fsm('add', bad);
    expect(invalid.code).to.equal(1);
    expect(invalid.stderr).to.equal(
      "fsm: invalid machine definition: state: start state 'NOPE' is not a key of config (HTTP 400)\n",
    );

    const missing = await fsm('get', 'no-such-machine');
    expect([missing.code, missing.stderr]).to.deep.equal([1, "fsm: no machine with id 'no-such-machine' (HTTP 404)\n"]);

    const notJson = join(dir, 'not.json');
    await writeFile(notJson, '{');
    expect((await fsm('add', notJson)).stderr).to.match(/^fsm: .*not valid JSON/);
    expect((await fsm('add', join(dir, 'absent.json'))).stderr).to.match(/^fsm: cannot read/);

    const nobody = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await fsm('--endpoint', nobody, 'list');
    expect(unreachable.code).to.equal(2);
    expect(unreachable.stderr).to.match(new RegExp(`^fsm: cannot reach ${nobody} \\(ECONNREFUSED\\)`));
    expect(unreachable.stderr.trimEnd().split('\n')).to.have.length(1);
  });
});
