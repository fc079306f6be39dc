import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'chai';
import dynalite from 'dynalite';
import { compareSteps, type MachineRecord, type MachineStatus, type StepMessage } from '../../domain/machine';
import { decide, isWaiting } from '../../domain/step';
import { DynamoMachineStore } from '../../handlers/adapters/dynamodb/machineStore';
import type { MachineStore } from '../../handlers/application/ports';
import { freePort } from '../../scripts/localStack';
import { machine, T0 } from '../helpers/factories';
import { InMemoryMachineStore } from '../helpers/fakes';

/**
 * The processor claims a step in one conditional write instead of reading and deciding. That
 * write must succeed exactly when decide() says 'run': checked here over every combination of
 * what a record and a message can be, against DynamoDB's real condition evaluation (dynalite)
 * and against the in-memory fake the unit tests use.
 */
const MESSAGE: StepMessage = { id: 'm', version: 5, attempt: 2 };
const STATUSES: MachineStatus[] = ['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'];
const OFFSETS = [-1, 0, 1];
const LEASES = {
  none: undefined,
  live: { token: 'other', until: T0 + 1 },
  ended: { token: 'other', until: T0 },
};
const WAKE_AT = {
  none: undefined,
  past: new Date(T0 - 1).toISOString(),
  now: new Date(T0).toISOString(),
  soon: new Date(T0 + 1).toISOString(),
  later: new Date(T0 + 3_600_000).toISOString(),
};

/**
 * Where the message stands against the record (every status, version and attempt offset), and
 * everything that can hold a current step back (removal, leases, waits) in every combination.
 */
function cases(): { name: string; record: MachineRecord }[] {
  const all: { name: string; record: MachineRecord }[] = [];
  const add = (name: string, overrides: Partial<MachineRecord>) =>
    all.push({ name, record: machine({ id: 'm', version: MESSAGE.version, attempt: MESSAGE.attempt, ...overrides }) });
  for (const status of STATUSES)
    for (const versionOffset of OFFSETS)
      for (const attemptOffset of OFFSETS)
        add(
          `${status} version${versionOffset >= 0 ? '+' : ''}${versionOffset} attempt${attemptOffset >= 0 ? '+' : ''}${attemptOffset}`,
          {
            status,
            version: MESSAGE.version + versionOffset,
            attempt: MESSAGE.attempt + attemptOffset,
          },
        );
  for (const removing of [false, true])
    for (const [leaseName, lease] of Object.entries(LEASES))
      for (const [wakeName, wakeAt] of Object.entries(WAKE_AT))
        add(`RUNNING${removing ? ' removing' : ''} lease:${leaseName} wake:${wakeName}`, {
          ...(removing ? { removing } : {}),
          ...(lease ? { lease } : {}),
          ...(wakeAt ? { wakeAt } : {}),
        });
  for (const versionOffset of OFFSETS)
    for (const [leaseName, lease] of Object.entries(LEASES))
      add(`RUNNING version${versionOffset >= 0 ? '+' : ''}${versionOffset} lease:${leaseName}`, {
        version: MESSAGE.version + versionOffset,
        ...(lease ? { lease } : {}),
      });
  // The wake count, the third part of a step's identity (absent = 0), against messages with
  // and without one; with every wait, since waking is about steps that wait.
  for (const woken of [undefined, 1, 2])
    for (const [leaseName, lease] of Object.entries(LEASES))
      for (const [wakeName, wakeAt] of Object.entries(WAKE_AT))
        add(`RUNNING woken:${woken ?? 0} lease:${leaseName} wake:${wakeName}`, {
          ...(woken ? { woken } : {}),
          ...(lease ? { lease } : {}),
          ...(wakeAt ? { wakeAt } : {}),
        });
  return all;
}

/** The messages a record is checked against: as sent by a step, and as sent by a wake. */
const MESSAGES: StepMessage[] = [MESSAGE, { ...MESSAGE, woken: 1 }];

async function disagreements(store: MachineStore, put: (record: MachineRecord) => Promise<void>) {
  const wrong: string[] = [];
  let runs = 0;
  let wakes = 0;
  const lease = { token: 'mine', until: T0 + 60_000 };
  for (const message of MESSAGES) {
    const label = `message woken:${message.woken ?? 0}`;
    for (const { name, record } of cases()) {
      await put(record);
      const runsByRule = decide(record, message, { now: T0, maxQueueDelaySeconds: 900 }).action === 'run';
      const claimed = await store.claimStep({ ...message, status: 'RUNNING' }, lease, T0);
      if (runsByRule) runs++;
      if ((claimed !== undefined) !== runsByRule) {
        wrong.push(`${label} ${name}: decide ${runsByRule ? 'runs' : 'does not run'}`);
      }
      // The wake API's claim: the same step, still waiting (isWaiting), instead of due.
      await put(record);
      const wakesByRule = compareSteps(message, record) === 0 && isWaiting(record, T0);
      const woken = await store.claimStep({ ...message, status: 'RUNNING', waiting: true }, lease, T0);
      if (wakesByRule) wakes++;
      if ((woken !== undefined) !== wakesByRule) {
        wrong.push(`${label} ${name}: the wake rule ${wakesByRule ? 'wakes' : 'does not wake'}`);
      }
    }
  }
  return { wrong, runs, wakes };
}

describe('the claim condition and decide()', function () {
  this.timeout(60_000);
  let server: Server;
  let client: DynamoDBDocumentClient;

  before(async () => {
    const port = await freePort();
    server = dynalite({ createTableMs: 0 });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const raw = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await raw.send(
      new CreateTableCommand({
        TableName: 'machines',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  });

  after(async () => {
    client?.destroy();
    await new Promise((resolve) => server?.close(resolve));
  });

  it(`agree on all ${cases().length * MESSAGES.length} combinations in DynamoDB, for the step and the wake claim`, async () => {
    const store = new DynamoMachineStore(client, { machines: 'machines', history: 'history' });
    const put = async (record: MachineRecord) => {
      await client.send(new PutCommand({ TableName: 'machines', Item: record }));
    };
    const { wrong, runs, wakes } = await disagreements(store, put);
    expect(wrong).to.deep.equal([]);
    // Not vacuous: some combinations run (the due, free, current step) and most do not; some wake.
    expect(runs).to.be.greaterThan(0);
    expect(wakes).to.be.greaterThan(0);
  });

  it('agree in the in-memory store the unit tests use', async () => {
    const store = new InMemoryMachineStore();
    const { wrong } = await disagreements(store, async (record) => {
      store.put(record);
    });
    expect(wrong).to.deep.equal([]);
  });
});
