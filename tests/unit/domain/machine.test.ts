import { expect } from 'chai';
import { definitionFingerprint } from '../../../domain/definition';
import {
  createMachine,
  type HistoryEvent,
  hasLiveLease,
  historyPage,
  isAwaitingFirstStep,
  isExpired,
  isFinished,
  stepMessageSchema,
  toView,
  unwrittenEvents,
  withEvent,
} from '../../../domain/machine';
import { definition, machine, T0 } from '../../helpers/factories';

describe('createMachine', () => {
  it('creates a RUNNING record at version 0 with a created event and the first message', () => {
    const added = definition({ name: 'order-42' });
    const { record, first } = createMachine(added, { id: 'order-42', now: T0 });
    const at = new Date(T0).toISOString();
    expect(record).to.deep.equal({
      id: 'order-42',
      name: 'order-42',
      state: 'START',
      status: 'RUNNING',
      object: added.object,
      config: added.config,
      options: added.options,
      version: 0,
      attempt: 1,
      seq: 0,
      lastEvent: { seq: 0, outcome: 'created', at, version: 0, to: 'START' },
      fingerprint: definitionFingerprint(added),
      createdAt: at,
      updatedAt: at,
    });
    expect(first).to.deep.equal({ message: { id: 'order-42', version: 0, attempt: 1 }, delaySeconds: 0 });
  });

  it('leaves name out when none was given', () => {
    expect(createMachine(definition(), { id: 'x', now: T0 }).record).not.to.have.property('name');
  });
});

describe('toView', () => {
  it('hides the lease and bookkeeping and says whether a handler runs', () => {
    const record = machine({
      lease: { token: 'secret', until: T0 + 1 },
      carrier: { version: 0, attempt: 1 },
      pendingEvents: [{ seq: 0, outcome: 'created', at: new Date(T0).toISOString(), version: 0 }],
    });
    const view = toView(record, T0);
    const hidden = ['lease', 'lastEvent', 'pendingEvents', 'fingerprint', 'seq', 'carrier'];
    expect(Object.keys(view).sort()).to.deep.equal(
      [...Object.keys(record).filter((key) => !hidden.includes(key)), 'handlerRunning'].sort(),
    );
    expect(view).to.deep.include({ state: record.state, object: record.object, handlerRunning: true });
    expect(toView(machine({ lease: { token: 'secret', until: T0 } }), T0).handlerRunning).to.equal(false);
  });
});

describe('hasLiveLease', () => {
  it('is true until the lease ends, and false without one', () => {
    expect(hasLiveLease(machine({ lease: { token: 't', until: T0 + 1 } }), T0)).to.equal(true);
    expect(hasLiveLease(machine({ lease: { token: 't', until: T0 } }), T0)).to.equal(false);
    expect(hasLiveLease(machine(), T0)).to.equal(false);
  });
});

describe('withEvent', () => {
  it('counts one more write, stamps the event with its seq and time, and updates updatedAt', () => {
    const record = machine({ seq: 4 });
    const at = new Date(T0 + 7000).toISOString();
    expect(withEvent(record, { outcome: 'transition', version: 2, from: 'A', to: 'B' }, T0 + 7000)).to.deep.equal({
      seq: 5,
      lastEvent: { seq: 5, at, outcome: 'transition', version: 2, from: 'A', to: 'B' },
      updatedAt: at,
    });
  });
});

describe('stepMessageSchema', () => {
  const valid = { id: 'm-1', version: 0, attempt: 1 };

  it('accepts an id of 1 to 256 characters, a version from 0 and an attempt from 1', () => {
    for (const message of [valid, { id: 'x'.repeat(256), version: 7, attempt: 3 }]) {
      expect(stepMessageSchema.parse(message)).to.deep.equal(message);
    }
  });

  it('refuses an empty or longer id, a negative or fractional version, attempt 0, and unknown fields', () => {
    for (const message of [
      { ...valid, id: '' },
      { ...valid, id: 'x'.repeat(257) },
      { ...valid, version: -1 },
      { ...valid, version: 0.5 },
      { ...valid, attempt: 0 },
      { ...valid, attempt: 1.5 },
      { ...valid, extra: true },
      { version: 0, attempt: 1 },
    ]) {
      expect(stepMessageSchema.safeParse(message).success, JSON.stringify(message)).to.equal(false);
    }
  });
});

describe('isAwaitingFirstStep', () => {
  it('is true only for an idle machine that has not taken its first step', () => {
    expect(isAwaitingFirstStep(machine(), T0)).to.equal(true);
    expect(isAwaitingFirstStep(machine({ version: 1 }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ attempt: 2 }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ status: 'FAILED' }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ status: 'PARKED' }), T0)).to.equal(false);
    expect(isAwaitingFirstStep(machine({ lease: { token: 't', until: T0 } }), T0)).to.equal(true);
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

describe('historyPage of a whole history', () => {
  it('adds the latest event from the record in place of a written one, drops uncommitted ones, and orders by seq', () => {
    const at = new Date(T0).toISOString();
    const record = machine({ seq: 2, lastEvent: { seq: 2, outcome: 'succeeded', at, version: 2 } });
    const written = [
      { seq: 1, outcome: 'transition' as const, at, version: 1 },
      { seq: 0, outcome: 'created' as const, at, version: 0 },
      { seq: 3, outcome: 'transition' as const, at, version: 3 },
      { seq: 2, outcome: 'transition' as const, at, version: 99 },
    ];
    expect(historyPage(record, { events: written, more: false }, { limit: 10 }).events).to.deep.equal([
      written[1],
      written[0],
      record.lastEvent,
    ]);
  });
});

describe('unwrittenEvents', () => {
  it("is the record's pending events, oldest first, then its latest", () => {
    const at = new Date(T0).toISOString();
    const events = [0, 1, 2].map((seq) => ({ seq, outcome: 'transition' as const, at, version: seq }));
    expect(unwrittenEvents({ lastEvent: events[2] as HistoryEvent })).to.deep.equal([events[2]]);
    expect(unwrittenEvents({ lastEvent: events[2] as HistoryEvent, pendingEvents: events.slice(0, 2) })).to.deep.equal(
      events,
    );
  });
});

describe('isExpired', () => {
  it('is true from expiresAt (epoch seconds) on, and never without it', () => {
    expect(isExpired({ expiresAt: T0 / 1000 }, T0)).to.equal(true);
    expect(isExpired({ expiresAt: T0 / 1000 + 1 }, T0)).to.equal(false);
    expect(isExpired({ expiresAt: T0 / 1000 + 1 }, T0 + 999)).to.equal(false);
    expect(isExpired({ expiresAt: T0 / 1000 - 1 }, T0)).to.equal(true);
    expect(isExpired({}, T0)).to.equal(false);
  });
});
