import { expect } from 'chai';
import { definitionFingerprint, type MachineDefinition, parseMachineDefinition } from '../../domain/definition';
import { PayloadTooLargeError, ValidationError } from '../../domain/errors';
import { MAX_MACHINE_BYTES } from '../../domain/limits';
import { definition, scope } from '../helpers/factories';

function validationDetails(input: unknown): { path: string; message: string }[] {
  try {
    parseMachineDefinition(input, scope);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    return (error as ValidationError).details;
  }
  expect.fail('expected a ValidationError');
}

describe('parseMachineDefinition', () => {
  it('accepts the original fsm.json shape (object, config, state) and applies the default options', () => {
    const parsed = parseMachineDefinition(
      { object: { a: 1 }, config: { START: 'prepare', END: 'svc-dev-finalize' }, state: 'START' },
      scope,
    );
    expect(parsed.options).to.deep.equal({
      retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 },
      retentionDays: 7,
    });
    expect(parsed.object).to.deep.equal({ a: 1 });
  });

  it('defaults object to {} and keeps partial retry options with defaults for the rest', () => {
    const parsed = parseMachineDefinition(
      { state: 'S', config: { S: 'prepare' }, options: { retry: { maxAttempts: 5 } } },
      scope,
    );
    expect(parsed.object).to.deep.equal({});
    expect(parsed.options.retry).to.deep.equal({ maxAttempts: 5, backoffSeconds: 1, backoffRate: 2 });
    expect(parsed.options.retentionDays).to.equal(7);
  });

  it('names the field when the start state is missing', () => {
    expect(validationDetails({ config: { S: 'prepare' } }).map((d) => d.path)).to.include('state');
  });

  it('rejects an empty config', () => {
    const details = validationDetails({ state: 'S', config: {} });
    expect(details.map((d) => d.path)).to.include('config');
  });

  it('rejects a start state that is not a key of config', () => {
    const details = validationDetails({ state: 'NOPE', config: { S: 'prepare' } });
    expect(details).to.deep.include({ path: 'state', message: "start state 'NOPE' is not a key of config" });
  });

  it('rejects malformed function references, naming the state', () => {
    const details = validationDetails({ state: 'S', config: { S: 'not a function!' } });
    expect(details.map((d) => d.path)).to.deep.equal(['config.S']);
  });

  it('rejects a reference outside the allow-list', () => {
    const details = validationDetails({
      state: 'S',
      config: { S: 'arn:aws:lambda:us-east-1:123456789012:function:someone-elses' },
    });
    expect(details).to.have.length(1);
    expect(details[0]?.path).to.equal('config.S');
    expect(details[0]?.message).to.match(/allow-list/);
  });

  it('rejects state names longer than 128 characters and unknown top-level fields', () => {
    const long = 'x'.repeat(129);
    const details = validationDetails({ state: long, config: { [long]: 'prepare' }, confg: {} });
    expect(details.map((d) => d.path)).to.include.members(['state', '(root)']);
  });

  it('rejects a body that is not an object', () => {
    expect(validationDetails([1, 2]).map((d) => d.path)).to.deep.equal(['(root)']);
  });

  it('rejects a name with characters unsafe in a URL', () => {
    expect(validationDetails({ name: 'a/b', state: 'S', config: { S: 'prepare' } })[0]?.path).to.equal('name');
  });

  it('throws PayloadTooLargeError for a definition over the size limit', () => {
    const big = { state: 'S', config: { S: 'prepare' }, object: { blob: 'x'.repeat(MAX_MACHINE_BYTES) } };
    expect(() => parseMachineDefinition(big, scope)).to.throw(PayloadTooLargeError);
  });
});

describe('definitionFingerprint', () => {
  it('is the same whatever the key order', () => {
    const a: MachineDefinition = definition({ object: { x: 1, y: [1, { b: 2, a: 1 }] } });
    const b: MachineDefinition = { ...definition(), object: { y: [1, { a: 1, b: 2 }], x: 1 } };
    expect(definitionFingerprint(a)).to.equal(definitionFingerprint(b));
  });

  it('differs when the definition differs', () => {
    expect(definitionFingerprint(definition())).not.to.equal(definitionFingerprint(definition({ state: 'TASK-1' })));
  });
});
