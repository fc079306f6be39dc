import { expect } from 'chai';
import { createMachine, fullHistory, isAwaitingFirstStep, isExpired, isFinished, toView } from '../../domain/machine';
import { definition, machine, T0 } from '../helpers/factories';

describe('createMachine', () => {
  it('creates a RUNNING record at version 0 with a created event and the first message', () => {
    const { record, first } = createMachine(definition({ name: 'order-42' }), { id: 'order-42', now: T0 });
    expect(record).to.include({ id: 'order-42', name: 'order-42', state: 'START', status: 'RUNNING', version: 0 });
    expect(record.lastEvent).to.deep.equal({
      seq: 0,
      outcome: 'created',
      at: new Date(T0).toISOString(),
      version: 0,
      to: 'START',
    });
    expect(first).to.deep.equal({ message: { id: 'order-42', version: 0, attempt: 1 }, delaySeconds: 0 });
  });

  it('leaves name out when none was given', () => {
    expect(createMachine(definition(), { id: 'x', now: T0 }).record).not.to.have.property('name');
  });
});

describe('toView', () => {
  it('hides the lease and bookkeeping and says whether a handler runs', () => {
    const view = toView(machine({ lease: { token: 'secret', until: T0 + 1 } }), T0);
    expect(view).not.to.have.any.keys('lease', 'lastEvent', 'fingerprint', 'seq');
    expect(view.handlerRunning).to.equal(true);
    expect(toView(machine({ lease: { token: 'secret', until: T0 } }), T0).handlerRunning).to.equal(false);
  });
});

describe('isAwaitingFirstStep', () => {
  it('is true only for an idle machine that has not taken its first step', () => {
    expect(isAwaitingFirstStep(machine(), T0)).to.equal(true);
    expect(isAwaitingFirstStep(machine({ version: 1 }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ attempt: 2 }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ status: 'FAILED' }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ lease: { token: 't', until: T0 + 1 } }), T0)).to.equal(false);
  });
});

describe('isFinished', () => {
  it('is true for SUCCEEDED and FAILED only', () => {
    expect(['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'].map((s) => isFinished(s as never))).to.deep.equal([
      false,
      false,
      true,
      true,
    ]);
  });
});

describe('fullHistory', () => {
  it('adds the latest event from the record, drops uncommitted ones, and orders by seq', () => {
    const at = new Date(T0).toISOString();
    const record = machine({ seq: 2, lastEvent: { seq: 2, outcome: 'succeeded', at, version: 2 } });
    const written = [
      { seq: 1, outcome: 'transition' as const, at, version: 1 },
      { seq: 0, outcome: 'created' as const, at, version: 0 },
      { seq: 3, outcome: 'transition' as const, at, version: 3 },
    ];
    expect(fullHistory(record, written).map((e) => e.seq)).to.deep.equal([0, 1, 2]);
  });
});

describe('isExpired', () => {
  it('is true from expiresAt (epoch seconds) on, and never without it', () => {
    expect(isExpired({ expiresAt: T0 / 1000 }, T0)).to.equal(true);
    expect(isExpired({ expiresAt: T0 / 1000 + 1 }, T0)).to.equal(false);
    expect(isExpired({}, T0)).to.equal(false);
  });
});
