import { expect } from 'chai';
import { MAX_MACHINE_BYTES, MAX_RECORD_BYTES } from '../../domain/limits';
import { itemSize } from '../../domain/storable';
import { api, waitUntilFinished } from '../helpers/api';

/** What one step of test-functions/faulty.ts `grow` adds as JSON: `[[[]]],` per element. */
const CHUNK = 6000;
const ELEMENT_JSON_BYTES = 7;

/**
 * A machine whose object grows each step must stop at the machine's limit: FAILED with a size
 * error on the step that would pass MAX_MACHINE_BYTES of JSON (one step, not several, after the
 * limit), never a write DynamoDB refuses or a machine stuck retrying. Its nested lists weigh more
 * as a DynamoDB map than as JSON: stored compressed, an object past DynamoDB's item size as a map
 * is kept (docs/design.md#limits).
 */
describe('a machine whose object grows each step', () => {
  it('ends FAILED with a size error on the first step past the limit', async function () {
    this.timeout(120_000);
    const added = await api('POST', '/machines', { object: { chunk: CHUNK }, config: { GROW: 'grow' }, state: 'GROW' });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    const machine = await waitUntilFinished((added.body as { id: string }).id, 100_000);
    expect(machine.status).to.equal('FAILED');
    const message = String(machine.error?.message);
    const match =
      /^handler result too large: the machine's object and config take (\d+) bytes of JSON; the limit is (\d+)$/.exec(
        message,
      );
    expect(match, message).to.not.equal(null);
    const wouldTake = Number(match?.[1]);
    expect(Number(match?.[2])).to.equal(MAX_MACHINE_BYTES);
    // Refused on the first step past the limit: one step less fitted.
    expect(wouldTake).to.be.greaterThan(MAX_MACHINE_BYTES);
    expect(wouldTake - CHUNK * ELEMENT_JSON_BYTES).to.be.at.most(MAX_MACHINE_BYTES);
    // The machine keeps its last data: the object before the refused step, larger as a map than an item may be.
    const object = machine.object as { step: number; grow: unknown[] };
    expect(object.grow).to.have.length(object.step * CHUNK);
    expect(itemSize({ object })).to.be.greaterThan(MAX_RECORD_BYTES);
    console.log(
      `      failed at step ${object.step + 1}: ${wouldTake} bytes of JSON (limit ${MAX_MACHINE_BYTES}); the last object kept is ${itemSize({ object })} bytes as a map`,
    );
  });
});
