import { expect } from 'chai';
import { DUE_BUCKET_SECONDS } from '../../../domain/limits';
import { type MachineRecord, stepOf } from '../../../domain/machine';
import { dueBucketOf, dueIndexKey } from '../../../domain/statusIndex';
import { step } from '../../../domain/step';
import { sweepOverdue } from '../../../handlers/application/sweepOverdue';
import { contextAt, machine, T0 } from '../../helpers/factories';
import { InMemoryMachineStore, RecordingMetrics, RecordingQueue } from '../../helpers/fakes';

const MINUTE = 60_000;
const GRACE = 15 * MINUTE;
const at = (ms: number) => new Date(ms).toISOString();

describe('the sweeper', () => {
  function sweep(records: MachineRecord[]) {
    const store = new InMemoryMachineStore();
    for (const record of records) store.put(record);
    const queue = new RecordingQueue();
    const metrics = new RecordingMetrics();
    return { store, queue, metrics, swept: sweepOverdue({ store, queue, metrics, now: () => T0 }, GRACE) };
  }

  it('sends the current step again of RUNNING machines due longer ago than the grace, with nobody on them, and counts them', async () => {
    const lost = machine({ id: 'lost', version: 3, attempt: 2, woken: 1, updatedAt: at(T0 - GRACE - 1) });
    const lostWait = machine({ id: 'lost-wait', updatedAt: at(T0 - 3 * GRACE), wakeAt: at(T0 - GRACE - 1) });
    const { queue, metrics, swept } = sweep([
      lost,
      lostWait,
      machine({ id: 'recent', updatedAt: at(T0 - GRACE + 1000) }),
      machine({ id: 'waiting', updatedAt: at(T0 - 3 * GRACE), wakeAt: at(T0 + MINUTE) }),
      machine({ id: 'running', updatedAt: at(T0 - 3 * GRACE), lease: { token: 't', until: T0 + 1 } }),
      machine({ id: 'parked', status: 'PARKED', updatedAt: at(T0 - 3 * GRACE) }),
      machine({ id: 'done', status: 'SUCCEEDED', updatedAt: at(T0 - 3 * GRACE) }),
      machine({ id: 'removing', removing: true, updatedAt: at(T0 - 3 * GRACE) }),
    ]);
    expect(await swept).to.deep.include({ resent: 2 });
    expect(queue.sent).to.have.deep.members([
      { message: stepOf(lost), delaySeconds: 0 },
      { message: stepOf(lostWait), delaySeconds: 0 },
    ]);
    expect(metrics.counts).to.deep.equal(['OverdueStepsResent', 'OverdueStepsResent']);
  });

  it('reads from the index only machines due in the grace bucket or before: not the ones waiting or just moved on', async () => {
    const { swept } = sweep([
      machine({ id: 'old', updatedAt: at(T0 - 2 * GRACE) }),
      machine({ id: 'now', updatedAt: at(T0) }),
      machine({ id: 'later', wakeAt: at(T0 + 3_600_000) }),
    ]);
    expect(await swept).to.deep.equal({ candidates: 1, resent: 1 });
    const quiet = sweep([machine({ updatedAt: at(T0) })]);
    expect(await quiet.swept).to.deep.equal({ candidates: 0, resent: 0 });
    expect(quiet.metrics.counts, 'nothing counted when nothing was lost').to.deep.equal([]);
  });

  it('keys RUNNING machines alone by the bucket their step is due in, which a chain of steps rewrites once per bucket', () => {
    const bucket = DUE_BUCKET_SECONDS * 1000;
    const start = Math.ceil(T0 / bucket) * bucket; // the first instant of a bucket
    let record = machine({ updatedAt: at(start), createdAt: at(start) });
    const keys = [dueIndexKey(record).dueBucket];
    // A step every second for two buckets' time: the key moves twice.
    for (let t = start + 1000; t < start + 2 * bucket + 1000; t += 1000) {
      record = step(record, { kind: 'returned', payload: { state: 'START' } }, contextAt(t)).record;
      keys.push(dueIndexKey(record).dueBucket);
    }
    expect(new Set(keys).size).to.equal(3);
    expect(keys[0]).to.equal(dueBucketOf(start));
    // A delay moves it to the bucket of the wake time; a final status takes the machine out.
    const waiting = step(record, { kind: 'returned', payload: { state: 'START', delay: 3600 } }, contextAt(T0)).record;
    expect(dueIndexKey(waiting)).to.deep.equal({ dueBucket: dueBucketOf(T0 + 3_600_000) });
    expect(dueIndexKey(step(record, { kind: 'returned', payload: null }, contextAt(T0)).record)).to.deep.equal({});
    expect(dueIndexKey({ ...record, status: 'PARKED' })).to.deep.equal({});
  });
});
