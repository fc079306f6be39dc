import { expect } from 'chai';
import { HISTORY_PURGE_BATCH, MAX_DIAGRAM_EVENTS } from '../../../domain/limits';
import { type HistoryEvent, historyKey } from '../../../domain/machine';
import { readHistory, readMachineWithHistory } from '../../../handlers/application/readMachine';
import { removeMachine } from '../../../handlers/application/removeMachine';
import { machine, T0 } from '../../helpers/factories';
import { fakeApiDeps } from '../../helpers/fakes';

const at = new Date(T0).toISOString();

/** A machine whose history has `count` events, the last one still in the record. */
function machineWithHistory(count: number) {
  const { deps, store, queue } = fakeApiDeps();
  const lastEvent: HistoryEvent = { seq: count - 1, outcome: 'retry', at, version: 0 };
  const record = store.put(machine({ seq: count - 1, lastEvent }));
  const events = new Map<number, HistoryEvent>();
  for (let seq = 0; seq < count - 1; seq++) events.set(seq, { seq, outcome: 'retry', at, version: 0 });
  store.events.set(historyKey(record), events);
  return { deps, store, queue, record };
}

describe('reading a history', () => {
  it('pages through it oldest first, the latest event last, without gaps or repeats', async () => {
    const { store } = machineWithHistory(25);
    const seen: number[] = [];
    let after: number | undefined;
    let pages = 0;
    do {
      const page = await readHistory(store, 'm-1', T0, { after, limit: 10 });
      seen.push(...page.events.map((event) => event.seq));
      after = page.next;
      pages++;
    } while (after !== undefined);
    expect(seen).to.deep.equal(Array.from({ length: 25 }, (_, seq) => seq));
    expect(pages).to.equal(3);
  });

  it('draws diagrams from at most the oldest MAX_DIAGRAM_EVENTS events, and says when there were more', async () => {
    const small = machineWithHistory(3);
    expect(await readMachineWithHistory(small.store, 'm-1', T0)).to.deep.include({ complete: true });
    const large = machineWithHistory(MAX_DIAGRAM_EVENTS + 5);
    const { events, complete } = await readMachineWithHistory(large.store, 'm-1', T0);
    expect(complete).to.equal(false);
    expect(events).to.have.length(MAX_DIAGRAM_EVENTS);
    expect(events.at(-1)?.seq).to.equal(MAX_DIAGRAM_EVENTS - 1);
  });
});

describe('removing a machine', () => {
  it('deletes the record and a short history at once', async () => {
    const { deps, store, queue, record } = machineWithHistory(5);
    await removeMachine(deps, record);
    expect(store.records.size).to.equal(0);
    expect(store.events.size).to.equal(0);
    expect(queue.sent).to.deep.equal([]);
  });

  it('purges a long history a batch at a time, asking for the next batch on the queue', async () => {
    const { deps, store, queue, record } = machineWithHistory(HISTORY_PURGE_BATCH + 10);
    await removeMachine(deps, record);
    expect(store.records.size).to.equal(0);
    expect(store.historyOf(record)).to.have.length(9);
    expect(queue.sent).to.deep.equal([{ message: { purgeHistory: historyKey(record) }, delaySeconds: 0 }]);
  });
});
