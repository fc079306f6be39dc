import { createHash } from 'node:crypto';
import { expect } from 'chai';
import {
  byteLength,
  definitionFingerprint,
  type MachineDefinition,
  parseMachineDefinition,
} from '../../../domain/definition';
import { PayloadTooLargeError, ValidationError } from '../../../domain/errors';
import { MAX_MACHINE_BYTES } from '../../../domain/limits';
import { definition, scope } from '../../helpers/factories';

function validationDetails(input: unknown): { path: string; message: string }[] {
  try {
    parseMachineDefinition(input, scope);
  } catch (error) {
    expect(error).to.be.instanceOf(ValidationError);
    expect((error as ValidationError).message).to.equal('invalid machine definition');
    return (error as ValidationError).details;
  }
  expect.fail('expected a ValidationError');
}

const minimal = { state: 'S', config: { S: 'prepare' } };
const DEFAULT_RETRY = { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 };

describe('parseMachineDefinition', () => {
  it('accepts the original fsm.json shape (object, config, state) and applies the default options', () => {
    const parsed = parseMachineDefinition(
      { object: { a: 1 }, config: { START: 'prepare', END: 'svc-dev-finalize' }, state: 'START' },
      scope,
    );
    expect(parsed).to.deep.equal({
      state: 'START',
      object: { a: 1 },
      config: { START: 'prepare', END: 'svc-dev-finalize' },
      options: { retry: DEFAULT_RETRY, retentionDays: 7 },
    });
  });

  it('defaults object to {} and keeps partial retry options with defaults for the rest', () => {
    const parsed = parseMachineDefinition({ ...minimal, options: { retry: { maxAttempts: 5 } } }, scope);
    expect(parsed.object).to.deep.equal({});
    expect(parsed.options.retry).to.deep.equal({ maxAttempts: 5, backoffSeconds: 1, backoffRate: 2 });
    expect(parsed.options.retentionDays).to.equal(7);
  });

  it('applies each retry default on its own', () => {
    const retryOf = (retry: object) => parseMachineDefinition({ ...minimal, options: { retry } }, scope).options.retry;
    expect(retryOf({ backoffSeconds: 5 })).to.deep.equal({ maxAttempts: 3, backoffSeconds: 5, backoffRate: 2 });
    expect(retryOf({ backoffRate: 3 })).to.deep.equal({ maxAttempts: 3, backoffSeconds: 1, backoffRate: 3 });
    expect(retryOf({})).to.deep.equal(DEFAULT_RETRY);
  });

  it('applies the default retry when options give only retentionDays', () => {
    const parsed = parseMachineDefinition({ ...minimal, options: { retentionDays: 30 } }, scope);
    expect(parsed.options).to.deep.equal({ retry: DEFAULT_RETRY, retentionDays: 30 });
  });

  it('keeps a name, the object and every option it was given', () => {
    const input = {
      name: 'order-42',
      state: 'S',
      object: [1, 'two', null],
      config: { S: 'prepare' },
      options: { retry: { maxAttempts: 100, backoffSeconds: 0, backoffRate: 1 }, retentionDays: 3650 },
    };
    expect(parseMachineDefinition(input, scope)).to.deep.equal(input);
  });

  describe('bounds of the options', () => {
    const optionIssues = (options: object) => validationDetails({ ...minimal, options });
    const accepts = (options: object) =>
      expect(() => parseMachineDefinition({ ...minimal, options }, scope), JSON.stringify(options)).not.to.throw();

    it('accepts each bound exactly', () => {
      for (const retry of [
        { maxAttempts: 1 },
        { maxAttempts: 100 },
        { backoffSeconds: 0 },
        { backoffSeconds: 86_400 },
        { backoffSeconds: 0.5 },
        { backoffRate: 1 },
        { backoffRate: 10 },
        { backoffRate: 1.5 },
      ]) {
        accepts({ retry });
      }
      accepts({ retentionDays: 1 });
      accepts({ retentionDays: 3650 });
    });

    it('refuses maxAttempts below 1, above 100 or not whole', () => {
      expect(optionIssues({ retry: { maxAttempts: 0 } })).to.deep.equal([
        { path: 'options.retry.maxAttempts', message: 'Too small: expected number to be >=1' },
      ]);
      expect(optionIssues({ retry: { maxAttempts: 101 } })).to.deep.equal([
        { path: 'options.retry.maxAttempts', message: 'Too big: expected number to be <=100' },
      ]);
      expect(optionIssues({ retry: { maxAttempts: 2.5 } })).to.deep.equal([
        { path: 'options.retry.maxAttempts', message: 'Invalid input: expected int, received number' },
      ]);
    });

    it('refuses backoffSeconds below 0 or above one day', () => {
      expect(optionIssues({ retry: { backoffSeconds: -0.5 } })).to.deep.equal([
        { path: 'options.retry.backoffSeconds', message: 'Too small: expected number to be >=0' },
      ]);
      expect(optionIssues({ retry: { backoffSeconds: 86_401 } })).to.deep.equal([
        { path: 'options.retry.backoffSeconds', message: 'Too big: expected number to be <=86400' },
      ]);
    });

    it('refuses backoffRate below 1 or above 10', () => {
      expect(optionIssues({ retry: { backoffRate: 0.99 } })).to.deep.equal([
        { path: 'options.retry.backoffRate', message: 'Too small: expected number to be >=1' },
      ]);
      expect(optionIssues({ retry: { backoffRate: 10.01 } })).to.deep.equal([
        { path: 'options.retry.backoffRate', message: 'Too big: expected number to be <=10' },
      ]);
    });

    it('refuses retentionDays below 1, above 3650 or not whole', () => {
      expect(optionIssues({ retentionDays: 0 })).to.deep.equal([
        { path: 'options.retentionDays', message: 'Too small: expected number to be >=1' },
      ]);
      expect(optionIssues({ retentionDays: 3651 })).to.deep.equal([
        { path: 'options.retentionDays', message: 'Too big: expected number to be <=3650' },
      ]);
      expect(optionIssues({ retentionDays: 1.5 })).to.deep.equal([
        { path: 'options.retentionDays', message: 'Invalid input: expected int, received number' },
      ]);
    });

    it('refuses unknown option fields, naming the object that holds them', () => {
      expect(optionIssues({ retry: { attempts: 3 } })).to.deep.equal([
        { path: 'options.retry', message: 'Unrecognized key: "attempts"' },
      ]);
      expect(optionIssues({ retries: 3 })).to.deep.equal([{ path: 'options', message: 'Unrecognized key: "retries"' }]);
    });
  });

  it('names the field when the start state is missing', () => {
    expect(validationDetails({ config: { S: 'prepare' } })).to.deep.equal([
      { path: 'state', message: 'Invalid input: expected string, received undefined' },
    ]);
  });

  it('rejects an empty config', () => {
    expect(validationDetails({ state: 'S', config: {} })).to.deep.equal([
      { path: 'config', message: 'must name at least one state' },
      { path: 'state', message: "start state 'S' is not a key of config" },
    ]);
  });

  it('rejects a start state that is not a key of config', () => {
    expect(validationDetails({ state: 'NOPE', config: { S: 'prepare' } })).to.deep.equal([
      { path: 'state', message: "start state 'NOPE' is not a key of config" },
    ]);
  });

  it('does not take an inherited property for a key of config', () => {
    expect(validationDetails({ state: 'toString', config: { S: 'prepare' } })).to.deep.equal([
      { path: 'state', message: "start state 'toString' is not a key of config" },
    ]);
  });

  it('rejects malformed function references, naming the state', () => {
    expect(validationDetails({ state: 'S', config: { S: 'not a function!' } })).to.deep.equal([
      {
        path: 'config.S',
        message: 'must be a Lambda function name (1-64 of A-Z a-z 0-9 - _) or a Lambda function ARN',
      },
    ]);
  });

  it('rejects each reference outside the allow-list, naming its state', () => {
    const elsewhere = 'arn:aws:lambda:us-east-1:123456789012:function:someone-elses';
    const partnerOther = 'arn:aws:lambda:us-east-1:999999999999:function:other';
    expect(validationDetails({ state: 'S', config: { S: elsewhere, T: 'prepare', U: partnerOther } })).to.deep.equal([
      { path: 'config.S', message: `function '${elsewhere}' is not on this service's allow-list` },
      { path: 'config.U', message: `function '${partnerOther}' is not on this service's allow-list` },
    ]);
  });

  it('accepts state names of 1 to 128 characters and refuses longer or empty ones', () => {
    const longest = 'x'.repeat(128);
    expect(parseMachineDefinition({ state: longest, config: { [longest]: 'prepare' } }, scope).state).to.equal(longest);
    expect(parseMachineDefinition({ state: 'x', config: { x: 'prepare' } }, scope).state).to.equal('x');
    const long = 'x'.repeat(129);
    expect(validationDetails({ state: long, config: { S: 'prepare' } })).to.deep.equal([
      { path: 'state', message: 'Too big: expected string to have <=128 characters' },
      { path: 'state', message: `start state '${long}' is not a key of config` },
    ]);
    expect(validationDetails({ state: '', config: { S: 'prepare' } })).to.deep.equal([
      { path: 'state', message: 'Too small: expected string to have >=1 characters' },
      { path: 'state', message: "start state '' is not a key of config" },
    ]);
  });

  it('refuses config keys that are not state names', () => {
    expect(validationDetails({ state: 'S', config: { S: 'prepare', ['x'.repeat(129)]: 'prepare' } })).to.deep.equal([
      { path: `config.${'x'.repeat(129)}`, message: 'Invalid key in record' },
    ]);
  });

  it('rejects unknown top-level fields', () => {
    expect(validationDetails({ ...minimal, confg: {} })).to.deep.equal([
      { path: '(root)', message: 'Unrecognized key: "confg"' },
    ]);
  });

  it('rejects a body that is not an object', () => {
    expect(validationDetails([1, 2])).to.deep.equal([
      { path: '(root)', message: 'Invalid input: expected object, received array' },
    ]);
  });

  describe('name', () => {
    const nameIssues = (name: string) => validationDetails({ name, ...minimal });
    const NAME_RULE = { path: 'name', message: 'must be 1-128 of A-Z a-z 0-9 . _ -, and not . or ..' };

    it('accepts letters, digits, dot, underscore and hyphen, 1 to 128 of them', () => {
      for (const name of ['a', 'Z', '0', '9', '_', '-', '...', '.a', 'Order_42.v-2', 'n'.repeat(128)]) {
        expect(parseMachineDefinition({ name, ...minimal }, scope).name).to.equal(name);
      }
    });

    it('refuses an empty name, a longer one and any other character, wherever it stands', () => {
      for (const name of ['', '.', '..', 'n'.repeat(129), 'a/b', '/ab', 'ab/', 'a b', 'é', 'a?', 'a\nb', '\nab']) {
        expect(nameIssues(name), JSON.stringify(name)).to.deep.equal([NAME_RULE]);
      }
    });
  });

  describe('size limit', () => {
    // A definition whose JSON is exactly `bytes` long.
    const ofSize = (bytes: number) => {
      const padding = bytes - byteLength({ ...minimal, object: { blob: '' } });
      return { ...minimal, object: { blob: 'x'.repeat(padding) } };
    };

    it('accepts a definition of exactly MAX_MACHINE_BYTES', () => {
      const input = ofSize(MAX_MACHINE_BYTES);
      expect(byteLength(input)).to.equal(MAX_MACHINE_BYTES);
      expect(parseMachineDefinition(input, scope).object).to.deep.equal(input.object);
    });

    it('throws PayloadTooLargeError, with its size and the limit, one byte past it', () => {
      const input = ofSize(MAX_MACHINE_BYTES + 1);
      try {
        parseMachineDefinition(input, scope);
        expect.fail('expected a PayloadTooLargeError');
      } catch (error) {
        expect(error).to.be.instanceOf(PayloadTooLargeError);
        expect((error as PayloadTooLargeError).message).to.equal(
          `machine definition is ${MAX_MACHINE_BYTES + 1} bytes; the limit is ${MAX_MACHINE_BYTES}`,
        );
        expect((error as PayloadTooLargeError).details).to.deep.equal({
          bytes: MAX_MACHINE_BYTES + 1,
          limit: MAX_MACHINE_BYTES,
        });
      }
    });

    it('checks the size before the shape', () => {
      expect(() => parseMachineDefinition({ blob: 'x'.repeat(MAX_MACHINE_BYTES) }, scope)).to.throw(
        PayloadTooLargeError,
      );
    });
  });
});

describe('definitionFingerprint', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('is the SHA-256, in hex, of the JSON with keys sorted and undefined fields left out', () => {
    const fingerprinted: MachineDefinition = {
      name: undefined,
      state: 'S',
      object: { 'b"': [2, { z: null, a: 'x' }], a: true },
      config: { T: 't', S: 's' },
      options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }, retentionDays: 7 },
    };
    expect(definitionFingerprint(fingerprinted)).to.equal(
      sha256(
        '{"config":{"S":"s","T":"t"},"object":{"a":true,"b\\"":[2,{"a":"x","z":null}]},' +
          '"options":{"retentionDays":7,"retry":{"backoffRate":2,"backoffSeconds":1,"maxAttempts":3}},"state":"S"}',
      ),
    );
  });

  it('is the same whatever the key order', () => {
    const a: MachineDefinition = definition({ object: { x: 1, y: [1, { b: 2, a: 1 }] } });
    const b: MachineDefinition = { ...definition(), object: { y: [1, { a: 1, b: 2 }], x: 1 } };
    expect(definitionFingerprint(a)).to.equal(definitionFingerprint(b));
  });

  it('differs when the definition differs', () => {
    expect(definitionFingerprint(definition())).not.to.equal(definitionFingerprint(definition({ state: 'TASK-1' })));
  });
});

describe('startAt and startDelay', () => {
  it('names the field of a wrong start time, and refuses both at once', () => {
    expect(validationDetails({ ...minimal, startAt: 'tomorrow' })[0]?.path).to.equal('startAt');
    expect(validationDetails({ ...minimal, startDelay: -1 })[0]?.path).to.equal('startDelay');
    expect(validationDetails({ ...minimal, startDelay: 1.5 })[0]?.path).to.equal('startDelay');
    expect(validationDetails({ ...minimal, startDelay: 5, startAt: '2026-01-01T00:00:00Z' })).to.deep.equal([
      { path: 'startDelay', message: 'give startAt or startDelay, not both' },
    ]);
    expect(parseMachineDefinition({ ...minimal, startAt: '2026-01-01T10:00:00+02:00' }, scope)).to.include({
      startAt: '2026-01-01T10:00:00+02:00',
    });
  });
});
