import { expect } from 'chai';
import { dropAuthorizers } from '../src/service';

describe('sls offline start: the routes lose their authorizers (serverless-offline cannot check them)', () => {
  it('removes every httpApi authorizer and the provider authorizers, and leaves the rest of each event', () => {
    const functions: Record<string, { events: Record<string, unknown>[] }> = {
      add: { events: [{ httpApi: { method: 'POST', path: '/machines', authorizer: { type: 'aws_iam' } } }] },
      get: { events: [{ httpApi: { method: 'GET', path: '/machines/{id}', authorizer: { name: 'jwt' } } }] },
      transition: { events: [{ sqs: { arn: 'arn:aws:sqs:us-east-1:0:q', maximumConcurrency: 10 } }] },
    };
    const provider = { httpApi: { payload: '2.0', authorizers: { jwt: { issuerUrl: 'https://issuer' } } } };
    dropAuthorizers({
      getAllFunctions: () => Object.keys(functions),
      getFunction: (key: string) => functions[key] as never,
      provider,
    });
    expect(functions.add?.events).to.deep.equal([{ httpApi: { method: 'POST', path: '/machines' } }]);
    expect(functions.get?.events).to.deep.equal([{ httpApi: { method: 'GET', path: '/machines/{id}' } }]);
    expect(functions.transition?.events).to.deep.equal([
      { sqs: { arn: 'arn:aws:sqs:us-east-1:0:q', maximumConcurrency: 10 } },
    ]);
    expect(provider.httpApi).to.deep.equal({ payload: '2.0' });
  });
});
