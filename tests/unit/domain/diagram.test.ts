import { expect } from 'chai';
import { mermaidDiagram } from '../../../domain/diagram';
import type { HistoryEvent } from '../../../domain/machine';
import { machine } from '../../helpers/factories';

const at = '2026-01-01T00:00:00.000Z';
const event = (seq: number, e: Omit<HistoryEvent, 'seq' | 'at' | 'version'>): HistoryEvent => ({
  seq,
  at,
  version: seq,
  ...e,
});

describe('mermaidDiagram', () => {
  it('draws every config state, the transitions seen with counts, start, finish and the current state', () => {
    const record = machine({ state: 'FINALIZE', status: 'SUCCEEDED' });
    const history = [
      event(0, { outcome: 'created', to: 'START' }),
      event(1, { outcome: 'transition', from: 'START', to: 'TASK-1' }),
      event(2, { outcome: 'retry', from: 'TASK-1' }),
      event(3, { outcome: 'transition', from: 'TASK-1', to: 'TASK-1' }),
      event(4, { outcome: 'transition', from: 'TASK-1', to: 'TASK-1' }),
      event(5, { outcome: 'transition', from: 'TASK-1', to: 'FINALIZE' }),
      event(6, { outcome: 'succeeded', from: 'FINALIZE' }),
    ];
    expect(mermaidDiagram(record, history)).to.equal(
      [
        'stateDiagram-v2',
        '    state "START" as s0',
        '    state "TASK-1" as s1',
        '    state "FINALIZE" as s2',
        '    [*] --> s0',
        '    s0 --> s1',
        '    s1 --> s1 : retry',
        '    s1 --> s1 : 2x',
        '    s1 --> s2',
        '    s2 --> [*]',
        '    classDef running fill:#fde68a,stroke:#b45309,stroke-width:2px',
        '    classDef parked fill:#bfdbfe,stroke:#1d4ed8,stroke-width:2px',
        '    classDef succeeded fill:#bbf7d0,stroke:#15803d,stroke-width:2px',
        '    classDef failed fill:#fecaca,stroke:#b91c1c,stroke-width:2px',
        '    class s2 succeeded',
        '',
      ].join('\n'),
    );
  });

  it('labels parking, resuming elsewhere and failing; ignores same-state resumes and removals', () => {
    const record = machine({
      state: 'TASK-1',
      status: 'FAILED',
      config: { START: 'a', 'TASK-1': 'b', 'say "hi"': 'c' },
    });
    const text = mermaidDiagram(record, [
      event(0, { outcome: 'created', to: 'START' }),
      event(1, { outcome: 'parked', from: 'START', to: 'START' }),
      event(2, { outcome: 'resumed', from: 'START', to: 'START' }),
      event(3, { outcome: 'parked', from: 'START', to: 'START' }),
      event(4, { outcome: 'resumed', from: 'START', to: 'TASK-1' }),
      event(5, { outcome: 'removal', from: 'TASK-1' }),
      event(6, { outcome: 'failed', from: 'TASK-1' }),
    ]);
    expect(text).to.include('    s0 --> s0 : parks 2x\n');
    expect(text).to.include('    s0 --> s1 : resumed\n');
    expect(text).to.include('    s1 --> [*] : failed\n');
    expect(text).to.include(`    state "say 'hi'" as s2\n`);
    expect(text).to.include('    class s1 failed\n');
    expect(text).not.to.include('s0 --> s0 : resumed');
  });

  it('draws how a wait ended: a failure to the finish, or a catch to its state; heartbeats draw nothing', () => {
    const record = machine({ state: 'TASK-1', status: 'FAILED', config: { START: 'a', 'TASK-1': 'b' } });
    const text = mermaidDiagram(record, [
      event(0, { outcome: 'created', to: 'START' }),
      event(1, { outcome: 'parked', from: 'START', to: 'START' }),
      event(2, { outcome: 'heartbeat', from: 'START' }),
      event(3, { outcome: 'timed-out', from: 'START', to: 'TASK-1' }),
      event(4, { outcome: 'parked', from: 'TASK-1', to: 'TASK-1' }),
      event(5, { outcome: 'callback-failed', from: 'TASK-1' }),
    ]);
    expect(text).to.include('    s0 --> s1 : catch\n');
    expect(text).to.include('    s1 --> [*] : failed\n');
  });

  it('keeps edges between the same states apart by what they mean', () => {
    const record = machine({ state: 'START', status: 'PARKED' });
    const text = mermaidDiagram(record, [
      event(0, { outcome: 'created', to: 'START' }),
      event(1, { outcome: 'retry', from: 'START' }),
      event(2, { outcome: 'transition', from: 'START', to: 'START' }),
      event(3, { outcome: 'parked', from: 'START', to: 'START' }),
      event(4, { outcome: 'resumed', from: 'START', to: 'TASK-1' }),
      event(5, { outcome: 'parked', from: 'START', to: 'TASK-1' }),
    ]);
    expect(text.split('\n').filter((line) => line.includes('-->'))).to.deep.equal([
      '    [*] --> s0',
      '    s0 --> s0 : retry',
      '    s0 --> s0',
      '    s0 --> s0 : parks',
      '    s0 --> s1 : resumed',
      '    s0 --> s1 : parks',
    ]);
    expect(text).to.include('    class s0 parked\n');
  });

  it('draws a machine with no history as its states alone', () => {
    const text = mermaidDiagram(machine(), []);
    expect(text.split('\n').slice(0, 5)).to.deep.equal([
      'stateDiagram-v2',
      '    state "START" as s0',
      '    state "TASK-1" as s1',
      '    state "FINALIZE" as s2',
      '    classDef running fill:#fde68a,stroke:#b45309,stroke-width:2px',
    ]);
    expect(text.endsWith('    class s0 running\n')).to.equal(true);
  });

  it('draws a state not in config as the finish', () => {
    const text = mermaidDiagram(machine({ status: 'FAILED' }), [
      event(0, { outcome: 'transition', from: 'START', to: 'MARS' }),
    ]);
    expect(text).to.include('    s0 --> [*]\n');
  });

  it('draws a current state not in config as the finish', () => {
    expect(mermaidDiagram(machine({ state: 'MARS', status: 'FAILED' }), [])).to.include('    class [*] failed\n');
  });

  it('draws a catch edge only from the states a catch covers, before and after it caught', () => {
    const record = machine({
      state: 'RECOVER',
      status: 'RUNNING',
      config: { CHARGE: 'a', SHIP: 'b', RECOVER: 'c' },
      catch: { CHARGE: 'RECOVER' },
    });
    const catchEdges = (history: HistoryEvent[]) =>
      mermaidDiagram(record, history)
        .split('\n')
        .filter((line) => line.includes('catch'));
    expect(catchEdges([])).to.deep.equal(['    s0 --> s2 : catch']);
    expect(
      catchEdges([
        event(0, { outcome: 'created', to: 'CHARGE' }),
        event(1, { outcome: 'caught', from: 'CHARGE', to: 'RECOVER', error: 'card declined' }),
        event(2, { outcome: 'caught', from: 'CHARGE', to: 'RECOVER', error: 'card declined' }),
      ]),
    ).to.deep.equal(['    s0 --> s2 : catch 2x']);
  });
});
