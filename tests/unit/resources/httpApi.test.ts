import { expect } from 'chai';
import * as httpApi from '../../../resources/http-api';

type Resolvers = {
  routes: (input: { resolveVariable: (name: string) => Promise<unknown> }) => Promise<Record<string, unknown>>;
  reservedConcurrency: (input: { resolveVariable: (name: string) => Promise<unknown> }) => Promise<number | null>;
};
const { routes, reservedConcurrency } = httpApi as unknown as Resolvers;

/** serverless.yml's variables as the framework resolves them for resources/http-api.js. */
const variables =
  (values: Record<string, string>) =>
  async (name: string): Promise<unknown> => {
    if (!(name in values)) throw new Error(`unexpected variable ${name}`);
    return values[name];
  };

describe('resources/http-api.js: auth chosen safely', () => {
  it('refuses apiAuth none for any stage but local, naming the stage and what to use', async () => {
    for (const stage of ['prod', 'dev', 'local-eu']) {
      const error = await routes({ resolveVariable: variables({ 'param:apiAuth': 'none', 'sls:stage': stage }) }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message, stage).to.equal(
        `param apiAuth none (an open API) is for the 'local' stage only, not '${stage}': use iam or jwt (docs/deploying.md "Auth")`,
      );
    }
  });

  it('leaves the local stage open with none, and puts AWS_IAM on every route with iam', async () => {
    const open = await routes({ resolveVariable: variables({ 'param:apiAuth': 'none', 'sls:stage': 'local' }) });
    expect(open.addMachine).to.deep.equal({ method: 'POST', path: '/machines' });
    const iam = await routes({ resolveVariable: variables({ 'param:apiAuth': 'iam' }) });
    expect(Object.values(iam)).to.have.length(12);
    for (const route of Object.values(iam)) expect(route).to.deep.include({ authorizer: { type: 'aws_iam' } });
  });

  it('reserves concurrency for the API functions only when apiReservedConcurrency is a whole number', async () => {
    const reserved = (value: string) =>
      reservedConcurrency({ resolveVariable: variables({ 'param:apiReservedConcurrency': value }) });
    expect(await reserved('')).to.equal(null);
    expect(await reserved('25')).to.equal(25);
    for (const bad of ['0', '2.5', 'lots']) {
      const error = await reserved(bad).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message, bad).to.match(
        /^param apiReservedConcurrency must be empty \(none\) or a whole number >= 1/,
      );
    }
  });
});
