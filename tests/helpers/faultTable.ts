import { expect } from 'chai';
import { type DriveStats, FaultRig } from './faultRig';

/** The history of examples/fsm.json's workflow run to its end. */
export const WORKFLOW_EVENTS = ['created', 'transition', 'transition', 'transition', 'succeeded'];

/**
 * Checks every machine ended as expected with exactly the expected commits; returns the counts
 * of lost steps (fewer commits than expected) and double commits (more).
 */
export async function audit(
  rig: FaultRig,
  ids: string[],
  expected: { status: string; version: number; events: string[] },
) {
  let lost = 0;
  let doubled = 0;
  for (const id of ids) {
    const record = await rig.get(id);
    const events = await rig.history(id);
    const version = record?.version ?? 0;
    lost += Math.max(0, expected.version - version);
    doubled += Math.max(0, version - expected.version) + Math.max(0, events.length - expected.events.length);
    const why = `${id}: ${JSON.stringify({ status: record?.status, error: record?.error, events })}`;
    expect(record?.status, why).to.equal(expected.status);
    expect(record?.version, why).to.equal(expected.version);
    expect(
      events.map((e) => e.outcome),
      why,
    ).to.deep.equal(expected.events);
    expect(
      events.map((e) => e.seq),
      why,
    ).to.deep.equal(events.map((_, i) => i));
  }
  return { lost, doubled };
}

/**
 * What each describe block of the fault suite sets up: a rig of its own for each test, handed to
 * `use` before the test and disposed after it, and the block's fault table (returns its `record`).
 */
export function faultSuite(use: (rig: FaultRig) => void) {
  let current: FaultRig | undefined;
  beforeEach(async () => {
    current = await FaultRig.create();
    use(current);
  });
  afterEach(async () => {
    await current?.dispose();
    current = undefined;
  });
  return faultTable();
}

/**
 * The fault table of the describe block it is called in: `record` adds one row (what was
 * injected and what came out), printed after the block when FSM_FAULT_TABLE is set.
 */
function faultTable() {
  const rows: Record<string, unknown>[] = [];
  after(() => {
    if (process.env.FSM_FAULT_TABLE) console.table(rows);
  });
  return function record(
    name: string,
    machines: number,
    injected: string,
    stats: DriveStats,
    counts: { lost: number; doubled: number },
  ) {
    rows.push({ case: name, machines, injected, delivered: stats.delivered, crashes: stats.crashes, ...counts });
  };
}
