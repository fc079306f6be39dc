import { expect } from 'chai';
import { testMachine } from 'serverless-statemachine/testing';
import { chargeCard } from '../../src/chargeCard';

const order = { state: 'CHARGE', object: { orderId: 42 }, config: { CHARGE: 'chargeCard', SHIP: 'ship' } };
const ship = async () => null;

describe('chargeCard', () => {
  it('charges, then ships', async () => {
    const run = await testMachine(order, { chargeCard, ship });
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.object).to.deep.include({ orderId: 42, charged: true });
  });

  it('retries a failed charge after 1 s, then 2 s', async () => {
    const run = await testMachine(order, { chargeCard, ship }, { failures: { CHARGE: { 1: 'throw', 2: 'throw' } } });
    expect(run.status).to.equal('SUCCEEDED');
    expect(run.history.filter((event) => event.outcome === 'retry').map((event) => event.delay)).to.deep.equal([1, 2]);
    expect(run.elapsedSeconds).to.equal(3);
  });
});
