import { expect } from 'chai';
import { exampleWorkflow } from '../helpers/api';
import { FaultRig } from '../helpers/faultRig';
import { audit, faultTable, WORKFLOW_EVENTS } from './faultSuite';

const { record, print: printTable } = faultTable();

/** The fault suite, continued (faults.test.ts): many machines, every message twice. */
describe('fault suite: exactly-once commits under faults', function () {
  this.timeout(120_000);
  let rig: FaultRig;

  beforeEach(async () => {
    rig = await FaultRig.create();
  });
  afterEach(async () => {
    await rig?.dispose();
  });
  after(printTable);

  describe('at scale', () => {
    it('runs 200 machines through the 5-state workflow with every message delivered twice', async () => {
      // A production-like lease: under this load one invoke can take longer than the 3 s rig lease.
      await rig.dispose();
      rig = await FaultRig.create({ leaseSeconds: 20 });
      const ids = await Promise.all(Array.from({ length: 200 }, () => rig.add(exampleWorkflow())));
      const stats = await rig.drive({
        duplicates: 1,
        workers: 4,
        timeoutMs: 110_000,
        until: () => rig.allFinished(ids),
      });
      const counts = await audit(rig, ids, { status: 'SUCCEEDED', version: 4, events: WORKFLOW_EVENTS });
      expect(counts).to.deep.equal({ lost: 0, doubled: 0 });
      expect(stats.outcomes.committed).to.equal(800);
      record('200 machines, duplicates', ids.length, '1 extra copy of each message', stats, counts);
    });
  });
});
