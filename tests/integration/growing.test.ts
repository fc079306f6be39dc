import { expect } from 'chai';
import { MAX_RECORD_BYTES } from '../../domain/limits';
import { api, waitUntilFinished } from '../helpers/api';

/** What one step of test-functions/faulty.ts `grow` adds, as DynamoDB counts it: per element 1 + 3 x (3 + 1) - 1. */
const CHUNK = 6000;
const ELEMENT_BYTES = 1 + (3 + 1) + (3 + 1) + 3;

/**
 * A machine whose object grows each step must stop at DynamoDB's item size, as DynamoDB counts
 * it: FAILED with a size error on the step that would pass MAX_RECORD_BYTES (one step, not
 * several, after the limit), never a write DynamoDB refuses or a machine stuck retrying.
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
      /^handler result too large: the machine takes (\d+) bytes as DynamoDB stores it; the limit is (\d+)/.exec(
        message,
      );
    expect(match, message).to.not.equal(null);
    const wouldTake = Number(match?.[1]);
    expect(Number(match?.[2])).to.equal(MAX_RECORD_BYTES);
    // Refused on the first step past the limit: one step less fitted.
    expect(wouldTake).to.be.greaterThan(MAX_RECORD_BYTES);
    expect(wouldTake - CHUNK * ELEMENT_BYTES).to.be.at.most(MAX_RECORD_BYTES);
    // The machine keeps its last data: the object before the refused step.
    const object = machine.object as { step: number; grow: unknown[] };
    expect(object.grow).to.have.length(object.step * CHUNK);
    console.log(
      `      failed at step ${object.step + 1}: ${wouldTake} bytes as DynamoDB stores it (limit ${MAX_RECORD_BYTES})`,
    );
  });
});
