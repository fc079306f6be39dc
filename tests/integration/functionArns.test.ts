import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'chai';
import { api, waitUntilFinished } from '../helpers/api';
import { currentStack } from '../helpers/stack';

/**
 * Machines whose config names this stage's state functions by full ARN, qualified ARN and full
 * name, as on AWS; the service's other functions are refused in every form.
 */
describe('function references by ARN and full name (local Lambda endpoint)', function () {
  this.timeout(60_000);

  const names = () => {
    const { info, env } = currentStack();
    const name = (key: string) => `${env.SERVICE_PREFIX}${key}`;
    const arn = (key: string) => `arn:aws:lambda:${info.region}:${info.accountId}:function:${name(key)}`;
    return { name, arn };
  };

  it('runs a machine whose states name functions by full ARN, ARN:$LATEST and full name to SUCCEEDED', async () => {
    const { name, arn } = names();
    const added = await api('POST', '/machines', {
      state: 'START',
      object: { orderId: 7, delay: 0 },
      config: {
        START: arn('prepare'),
        'TASK-1': `${arn('task-1')}:$LATEST`,
        'TASK-2a': name('task-2a'),
        'TASK-2b': `${arn('task-2b')}:$LATEST`,
        FINALIZE: arn('finalize'),
      },
    });
    expect(added.status, JSON.stringify(added.body)).to.equal(201);
    const machine = await waitUntilFinished((added.body as { id: string }).id);
    expect(machine.status, JSON.stringify(machine.error)).to.equal('SUCCEEDED');
    expect((machine.object as { trail?: string[] }).trail).to.include.members(['START', 'TASK-1']);
  });

  it("refuses the service's entry points and other stages' functions by every form (400 naming the state)", async () => {
    const { name, arn } = names();
    const { info } = currentStack();
    const config = {
      API: 'addMachine',
      PROCESSOR: name('transition'),
      PROCESSOR_ARN: `${arn('transition')}:$LATEST`,
      DEAD_LETTERS: arn('deadLetters'),
      SIBLING_STAGE: name('eu-prepare'),
      SIBLING_STAGE_ARN: arn('eu-prepare'),
      OTHER_REGION: arn('prepare').replace(
        `:${info.region}:`,
        info.region === 'eu-west-1' ? ':us-east-1:' : ':eu-west-1:',
      ),
      OK: 'prepare',
    };
    const refused = await api('POST', '/machines', { state: 'OK', config });
    expect(refused.status, JSON.stringify(refused.body)).to.equal(400);
    expect(refused.body.details.map((d: { path: string }) => d.path)).to.have.members(
      Object.keys(config)
        .filter((state) => state !== 'OK')
        .map((state) => `config.${state}`),
    );
  });

  it('invokes by every form Lambda accepts: name, name:qualifier, partial ARN, full ARN with qualifier', async () => {
    const { name, arn } = names();
    const { info } = currentStack();
    const lambda = new LambdaClient({
      region: info.region,
      endpoint: currentStack().env.LAMBDA_ENDPOINT,
      maxAttempts: 1,
    });
    try {
      for (const reference of [
        name('noop'),
        `${name('noop')}:$LATEST`,
        `${info.accountId}:function:${name('noop')}`,
        `${arn('noop')}:$LATEST`,
        arn('noop'),
      ]) {
        const answer = await lambda.send(
          new InvokeCommand({
            FunctionName: reference,
            Payload: new TextEncoder().encode(
              JSON.stringify({ id: 'x', state: 'S', object: {}, version: 0, attempt: 1 }),
            ),
          }),
        );
        expect(answer.StatusCode, reference).to.equal(200);
        expect(answer.FunctionError, reference).to.equal(undefined);
      }
      const missing = await lambda
        .send(new InvokeCommand({ FunctionName: arn('no-such-function') }))
        .then((a) => a.FunctionError ?? a.StatusCode)
        .catch((error: Error) => error.name);
      expect(String(missing)).to.match(/ResourceNotFound|404/);
    } finally {
      lambda.destroy();
    }
  });
});
