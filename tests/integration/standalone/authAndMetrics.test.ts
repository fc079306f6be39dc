import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import { ApiClient } from '../../../client/apiClient';
import { pollUntil } from '../../../client/poll';
import { sigV4Transform } from '../../../client/sign';
import { historyKey, isFinished, type MachineView } from '../../../domain/machine';
import { COUNT_METRICS, TIMING_METRICS } from '../../../handlers/application/metrics';
import {
  type EmfSummary,
  formatEmfSummary,
  parseEmf,
  summarizeEmf,
} from '../../../plugins/serverless-offline-emulators/src/emf';
import { exampleWorkflow } from '../../helpers/api';
import { runFsm } from '../../helpers/fsm';
import { readRequestLog } from '../../helpers/iamSimulation';
import { LOCAL_CREDENTIALS, type LocalStack, tableNames } from '../../helpers/localStack';
import { startOwnTestStack } from '../../helpers/stack';

const PROJECT_DIR = join(__dirname, '..', '..', '..');

/**
 * A stack of its own, as a developer runs it with `--apiAuth iam` and the default log level
 * (INFO): the API takes only requests SigV4-signed with the local credentials, the functions'
 * EMF metrics count what the machines did, and no log line holds a machine's object. Every
 * machine added here carries MARKER in its object; the last test looks for it in everything the
 * stack printed. Its DynamoDB leaves every BatchWriteItem / BatchGetItem batch unprocessed twice
 * (SLS_OFFLINE_DYNAMODB_UNPROCESSED) before doing it, as DynamoDB may under load.
 */
/** How many times the stack's DynamoDB leaves each batch unprocessed before doing it. */
const LEFTOVER_REFUSALS = 2;

describe('the local stack with IAM auth on, at the default log level', () => {
  const MARKER = `object-marker-${randomUUID()}`;
  const output: string[] = [];
  let stack: LocalStack;
  let signed: ApiClient;
  let dir: string;

  before(async function () {
    this.timeout(120_000);
    dir = await mkdtemp(join(tmpdir(), 'fsm-auth-'));
    stack = await startOwnTestStack({
      apiAuth: 'iam',
      env: { SLS_OFFLINE_DYNAMODB_UNPROCESSED: String(LEFTOVER_REFUSALS) },
      // serverless.yml's own logLevel (INFO), not the quiet one the other suites use.
      params: { logLevel: undefined },
      metricsIntervalSeconds: 1,
      onOutput: (line) => output.push(line),
    });
    signed = new ApiClient({
      endpoint: stack.apiUrl,
      transformRequest: sigV4Transform({ region: stack.info.region, credentials: LOCAL_CREDENTIALS }),
    });
  });

  after(async function () {
    this.timeout(30_000);
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const finished = (id: string, timeoutMs = 60_000) =>
    pollUntil(
      () => signed.getMachine(id),
      (machine) => isFinished(machine.status),
      { timeoutMs, intervalMs: 200, what: `machine ${id} to finish` },
    );

  /** The example workflow of examples/fsm.json, carrying the marker. */
  async function exampleDefinition(): Promise<Record<string, unknown> & { object: Record<string, unknown> }> {
    const definition = JSON.parse(await readFile(join(PROJECT_DIR, 'examples', 'fsm.json'), 'utf8'));
    return { ...definition, object: { ...definition.object, marker: MARKER } };
  }

  /** Every EMF document the stack printed so far. */
  const emfLines = () => output.filter((line) => parseEmf(line) !== undefined);

  describe('metrics (EMF), first: no other machine has run on this stack yet', () => {
    const RETRY = { maxAttempts: 3, backoffSeconds: 0 };
    let summary: EmfSummary;

    it('a succeeding and a failing machine: the EMF records count them, under the namespace, by service and stage only', async function () {
      this.timeout(90_000);
      const succeeding = await signed.addMachine(exampleWorkflow({ branch: 'a', marker: MARKER }));
      const failing = await signed.addMachine({
        state: 'S',
        object: { marker: MARKER },
        config: { S: 'always-fails' },
        options: { retry: RETRY },
      });
      expect((await finished(succeeding.id)).status).to.equal('SUCCEEDED');
      expect((await finished(failing.id)).status).to.equal('FAILED');

      // Each invocation writes its EMF line as it ends, which can be just after its commit is visible.
      const steps = 4 + RETRY.maxAttempts; // START, TASK-1, TASK-2a, FINALIZE; then every attempt of S
      summary = await pollUntil(
        async () => summarizeEmf(emfLines()),
        (s) => s.metrics.TransitionsCommitted?.sum === steps && s.metrics.MachinesStarted?.sum === 2,
        { timeoutMs: 10_000, what: 'the EMF lines of both machines' },
      );

      const documents = emfLines().map((line) => parseEmf(line));
      for (const emf of documents) {
        expect(
          emf?.directives.map(({ Namespace, Dimensions }) => ({ Namespace, Dimensions })),
          JSON.stringify(emf?.document),
        ).to.deep.equal([{ Namespace: 'ServerlessStateMachine', Dimensions: [['service', 'stage']] }]);
        expect(emf?.document).to.include({ service: 'serverless-statemachine', stage: 'local' });
      }
      const names = Object.keys(summary.metrics);
      expect(names).to.include.members(['StepLatency', 'HandlerDuration']);
      expect([...COUNT_METRICS, ...TIMING_METRICS]).to.include.members(names);

      const total = (name: string) => summary.metrics[name]?.sum ?? 0;
      // Commits happen exactly once: these are exact.
      expect({
        MachinesStarted: total('MachinesStarted'),
        MachinesSucceeded: total('MachinesSucceeded'),
        MachinesFailed: total('MachinesFailed'),
        TransitionsCommitted: total('TransitionsCommitted'),
        Retries: total('Retries'),
        Throttles: total('Throttles'),
        DeadLettered: total('DeadLettered'),
      }).to.deep.equal({
        MachinesStarted: 2,
        MachinesSucceeded: 1,
        MachinesFailed: 1,
        TransitionsCommitted: steps,
        Retries: RETRY.maxAttempts - 1,
        Throttles: 0,
        DeadLettered: 0,
      });
      expect(summary.metrics.StepLatency).to.include({ unit: 'Milliseconds', count: steps });
      // Handlers run at least once per step (a step taken over runs its handler again).
      expect(total('HandlerErrors')).to.be.at.least(RETRY.maxAttempts);
      expect(summary.metrics.HandlerDuration?.unit).to.equal('Milliseconds');
      expect(summary.metrics.HandlerDuration?.count).to.be.at.least(steps);
    });

    it('the stack prints them summed up in one line', async () => {
      const expected = formatEmfSummary(summary);
      expect(expected).to.match(/^metrics: .*MachinesFailed 1, MachinesStarted 2, MachinesSucceeded 1, /);
      await pollUntil(
        async () => output.filter((line) => line.startsWith('metrics: ')).at(-1),
        (line) => line === expected,
        { timeoutMs: 10_000, what: `the metrics line "${expected}"` },
      );
    });
  });

  describe('IAM auth', () => {
    it('answers an unsigned request 403 with a JSON message, and adds nothing', async () => {
      const open = new ApiClient({ endpoint: stack.apiUrl });
      const listed = await open.send('GET', '/machines');
      expect(listed.status).to.equal(403);
      expect(listed.contentType).to.equal('application/json');
      expect(listed.body).to.deep.equal({ message: 'Missing Authentication Token' });

      const name = `unsigned-${randomUUID()}`;
      const added = await open.send('POST', '/machines', { ...exampleWorkflow({ marker: MARKER }), name });
      expect(added.status).to.equal(403);
      expect((await signed.send('GET', `/machines/${name}`)).status).to.equal(404);
    });

    it('answers a request signed with the wrong secret 403, and adds nothing', async () => {
      const wrong = new ApiClient({
        endpoint: stack.apiUrl,
        transformRequest: sigV4Transform({
          region: stack.info.region,
          credentials: { ...LOCAL_CREDENTIALS, secretAccessKey: 'not-the-local-secret' },
        }),
      });
      const name = `wrongly-signed-${randomUUID()}`;
      const added = await wrong.send<{ message: string }>('POST', '/machines', {
        ...exampleWorkflow({ marker: MARKER }),
        name,
      });
      expect(added.status).to.equal(403);
      expect(added.contentType).to.equal('application/json');
      expect(Object.keys(added.body ?? {})).to.deep.equal(['message']);
      expect(added.body?.message).to.match(/signature we calculated does not match/);
      expect((await signed.send('GET', `/machines/${name}`)).status).to.equal(404);
    });

    it('runs a machine of examples/fsm.json added with a signature of the local credentials to SUCCEEDED', async function () {
      this.timeout(60_000);
      const added: MachineView = await signed.addMachine(await exampleDefinition());
      const done = await finished(added.id);
      expect(done.status).to.equal('SUCCEEDED');
      expect(done.object).to.include({ marker: MARKER });
    });

    describe('the fsm CLI', () => {
      /** `fsm ...` as a user runs it against this stack, with the local credentials in its environment. */
      function fsm(...args: string[]) {
        const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, FSM_AUTH: _auth, ...env } = process.env;
        return runFsm(args, {
          ...env,
          FSM_ENDPOINT: stack.apiUrl,
          AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
          AWS_REGION: stack.info.region,
        });
      }

      it('with --auth iam: adds examples/fsm.json and watches it to SUCCEEDED', async function () {
        this.timeout(90_000);
        const file = join(dir, 'fsm.json');
        await writeFile(file, JSON.stringify(await exampleDefinition()));
        const added = await fsm('--auth', 'iam', 'add', file, '--json');
        expect(added.code, added.stderr).to.equal(0);
        const { id } = JSON.parse(added.stdout);
        const watched = await fsm('--auth', 'iam', 'watch', id, '--interval', '200');
        expect(watched.code, watched.stderr).to.equal(0);
        expect(watched.stdout.trimEnd().split('\n').at(-1)).to.match(/^SUCCEEDED in state FINALIZE after 4 steps$/);
      });

      it('without signing: exits 1 with the 403 message', async function () {
        this.timeout(30_000);
        const listed = await fsm('list');
        expect(listed.code).to.equal(1);
        expect(listed.stderr).to.match(/Missing Authentication Token/);
      });
    });
  });

  describe('who did what', () => {
    it("records the local caller's ARN as `by` on every event the API made: created, woken, resumed, redriven", async function () {
      this.timeout(90_000);
      const caller = `arn:aws:iam::${stack.info.accountId}:user/${LOCAL_CREDENTIALS.accessKeyId}`;
      // Waits an hour before TASK-1 (woken), which parks it in FAIL (resumed), which fails (redriven).
      const added = await signed.addMachine({
        state: 'START',
        config: { START: 'prepare', 'TASK-1': 'park', FAIL: 'always-fails' },
        object: { delay: 3600, next: 'FAIL', marker: MARKER },
        options: { retry: { maxAttempts: 1 } },
      });
      const until = (what: string, done: (m: MachineView) => boolean) =>
        pollUntil(() => signed.getMachine(added.id), done, { timeoutMs: 30_000, intervalMs: 200, what });
      await until('the wait', (m) => m.version === 1 && m.wakeAt !== undefined && !m.handlerRunning);
      await signed.wake(added.id);
      await until('PARKED', (m) => m.status === 'PARKED');
      await signed.resume(added.id);
      const failed = await until('FAILED', (m) => m.status === 'FAILED');
      await signed.redrive(added.id);
      await until('FAILED again', (m) => m.status === 'FAILED' && m.version > failed.version);

      const { events } = await signed.history(added.id);
      const byOutcome = events.map((event) => [event.outcome, event.by ?? null]);
      expect(byOutcome).to.deep.equal([
        ['created', caller],
        ['transition', null],
        ['woken', caller],
        ['parked', null],
        ['resumed', caller],
        ['failed', null],
        ['redriven', caller],
        ['failed', null],
      ]);
    });
  });

  describe('batch leftovers (DynamoDB leaves each batch unprocessed twice)', () => {
    it("lists every machine (BatchGetItem) and deletes all of a machine's history (BatchWriteItem): nothing lost", async function () {
      this.timeout(60_000);
      const ids = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await signed.addMachine({ ...exampleWorkflow({ marker: MARKER, delay: 3600 }) })).id);
      }
      const listed = await signed.listAll({ status: 'ALL' });
      expect(listed.map((item) => item.id)).to.include.members(ids);

      // A machine with a history of several items, deleted while it waits: its history goes too.
      const [id] = ids as [string];
      const before = await pollUntil(
        () => signed.getMachine(id),
        (m) => m.version === 1 && !m.handlerRunning,
        { timeoutMs: 30_000, what: 'the machine to wait' },
      );
      const key = historyKey(before);
      const client = DynamoDBDocumentClient.from(
        new DynamoDBClient({ region: stack.info.region, endpoint: stack.env.DYNAMODB_ENDPOINT }),
      );
      const historyItems = async () =>
        (
          await client.send(
            new QueryCommand({
              TableName: tableNames().history,
              KeyConditionExpression: 'id = :id',
              ExpressionAttributeValues: { ':id': key },
              ConsistentRead: true,
            }),
          )
        ).Items?.length ?? 0;
      try {
        expect(await historyItems()).to.be.at.least(1);
        expect((await signed.send('DELETE', `/machines/${id}`)).status).to.equal(204);
        expect(await historyItems()).to.equal(0);
      } finally {
        client.destroy();
      }
      // The leftovers were real: each batch was sent again until DynamoDB took it.
      const batches = (await readRequestLog(stack.requestLog as string)).filter(
        (r) => r.kind === 'request' && (r.action === 'BatchWriteItem' || r.action === 'BatchGetItem'),
      );
      for (const action of ['BatchWriteItem', 'BatchGetItem']) {
        expect(batches.filter((r) => r.kind === 'request' && r.action === action).length, action).to.be.at.least(
          LEFTOVER_REFUSALS + 1,
        );
      }
    });
  });

  describe('the processor cap', () => {
    it("runs as many pollers as each trigger's maximumConcurrency (processorMaxConcurrency, 8 on the local stage)", () => {
      const triggers = output.find((line) => line.trimStart().startsWith('Triggers '));
      expect(triggers).to.include('transition <- serverless-statemachine-local-transitions (8 at once)');
      expect(triggers).to.include('deadLetters <- serverless-statemachine-local-dead-letters (2 at once)');
    });
  });

  describe('logs', () => {
    it('no line the stack printed holds a machine object, though the steps and finalize logged at INFO', () => {
      expect(
        output.some((line) => line.includes('"message":"step"')),
        'INFO step lines',
      ).to.equal(true);
      expect(
        output.some((line) => line.includes('"message":"machine finished"')),
        "finalize's line",
      ).to.equal(true);
      expect(output.filter((line) => line.includes(MARKER))).to.deep.equal([]);
    });
  });
});
