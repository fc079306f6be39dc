import { expect } from 'chai';
import { parseMachineDefinition } from '../../../domain/definition';
import { type DomainError, PayloadTooLargeError, ValidationError } from '../../../domain/errors';
import { MAX_RECORD_BYTES } from '../../../domain/limits';
import { parseListQuery } from '../../../domain/listing';
import { createMachine } from '../../../domain/machine';
import { resume } from '../../../domain/step';
import { itemSize } from '../../../domain/storable';
import { type HttpRequest, httpHandler, machineId } from '../../../handlers/entrypoints/http/httpHandler';
import { contextAt, machine, scope, T0 } from '../../helpers/factories';

/** The error a call throws, or undefined. */
function thrown(call: () => unknown): DomainError | undefined {
  try {
    call();
  } catch (error) {
    return error as DomainError;
  }
  return undefined;
}

const nested = (levels: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};

const valid = { state: 'START', config: { START: 'prepare' } };

describe('hostile input is refused with the field named, before anything is written', () => {
  describe('machine definitions', () => {
    const cases: [string, unknown, string][] = [
      ['an object nested 10,000 levels deep', { ...valid, object: nested(10_000) }, 'object.a.a'],
      ['an object nested 33 levels deep', { ...valid, object: nested(33) }, 'object.a.a'],
      [
        'an integer past 2^53',
        JSON.parse(`{"state":"START","config":{"START":"prepare"},"object":{"n":9007199254740993}}`),
        'object.n',
      ],
      ['a number closer to 0 than 1e-130', { ...valid, object: { n: 1e-200 } }, 'object.n'],
      [
        'a __proto__ key',
        JSON.parse('{"state":"START","config":{"START":"prepare"},"object":{"__proto__":{"x":1}}}'),
        'object.__proto__',
      ],
      [
        'a __proto__ key in config',
        JSON.parse('{"state":"START","config":{"START":"prepare","__proto__":"x"}}'),
        'config.__proto__',
      ],
      ['a lone surrogate', { ...valid, object: { s: '\ud800' } }, 'object.s'],
      ['the name .', { ...valid, name: '.' }, 'name'],
      ['the name ..', { ...valid, name: '..' }, 'name'],
      ['a line break in a state name', { state: 'A\nB', config: { 'A\nB': 'prepare' } }, 'state'],
      // The service's own entry points and another stage's functions are not state functions.
      ['an API function as a state function', { state: 'S', config: { S: 'addMachine' } }, 'config.S'],
      ['the transition processor by name', { state: 'S', config: { S: 'svc-dev-transition' } }, 'config.S'],
      [
        'the transition processor by qualified ARN',
        { state: 'S', config: { S: 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-transition:$LATEST' } },
        'config.S',
      ],
      ['the dead-letter consumer', { state: 'S', config: { S: 'deadLetters' } }, 'config.S'],
      ["a sibling stage's function", { state: 'S', config: { S: 'svc-dev-eu-prepare' } }, 'config.S'],
      [
        "a state function's ARN in another region",
        { state: 'S', config: { S: 'arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-prepare' } },
        'config.S',
      ],
    ];
    for (const [what, input, path] of cases) {
      it(`refuses ${what} (400, ${path})`, () => {
        const error = thrown(() => parseMachineDefinition(input, scope));
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).details.map((issue) => issue.path)).to.satisfy((paths: string[]) =>
          paths.some((p) => p.startsWith(path)),
        );
      });
    }

    it('keeps a constructor key, which DynamoDB stores as it is', () => {
      const parsed = parseMachineDefinition({ ...valid, object: { constructor: 'Bob' } }, scope);
      expect(parsed.object).to.deep.equal({ constructor: 'Bob' });
    });

    it('accepts 32 levels of nesting in the object', () => {
      expect(parseMachineDefinition({ ...valid, object: nested(31) }, scope).object).to.deep.equal(nested(31));
    });

    it('accepts a definition under 256 KiB of JSON whose object is over 400 KB as a DynamoDB map (stored compressed)', () => {
      const object = { lists: Array.from({ length: 35_000 }, () => [[[]]]) };
      expect(itemSize({ object })).to.be.greaterThan(MAX_RECORD_BYTES);
      const parsed = parseMachineDefinition({ ...valid, object }, scope);
      expect(createMachine(parsed, { id: 'm', now: T0 }).record.object).to.deep.equal(object);
    });
  });

  describe('resume', () => {
    const parked = () => machine({ status: 'PARKED', version: 1 });

    it('refuses an object DynamoDB cannot store (400, object...)', () => {
      const error = thrown(() => resume(parked(), { object: nested(40) as never }, contextAt(T0)));
      expect(error).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).details[0]?.path).to.match(/^object\.a/);
    });

    it('refuses with 413 an object over 256 KiB of JSON', () => {
      const error = thrown(() => resume(parked(), { object: { s: 'x'.repeat(270 * 1024) } }, contextAt(T0)));
      expect(error).to.be.instanceOf(PayloadTooLargeError);
    });

    it('refuses with 413 an object that fits alone but not with a large config', () => {
      const config = {
        START: 'prepare',
        ...Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`S${i}`.padEnd(120, 'x'), 'prepare'])),
      };
      const error = thrown(() =>
        resume(machine({ status: 'PARKED', config }), { object: { s: 'x'.repeat(140 * 1024) } }, contextAt(T0)),
      );
      expect(error).to.be.instanceOf(PayloadTooLargeError);
    });
  });

  describe('the HTTP API', () => {
    const request = (id: string) => ({ path: { id } }) as unknown as HttpRequest;

    it('refuses machine ids that cannot exist (400, id) instead of asking DynamoDB', () => {
      for (const id of ['x'.repeat(2100), '.', '..', 'a/b', 'with space']) {
        expect(thrown(() => machineId(request(id)))?.details, id).to.deep.equal([
          { path: 'id', message: 'a machine id is a name (1-128 of A-Z a-z 0-9 . _ -) or a UUID' },
        ]);
      }
      expect(machineId(request('5cdb3b00-9b4f-430f-900a-9935316747b2'))).to.equal(
        '5cdb3b00-9b4f-430f-900a-9935316747b2',
      );
    });

    it('refuses a body nested thousands of levels deep with 400, without overflowing the stack', async () => {
      const body = `{"object":${'['.repeat(5000)}${']'.repeat(5000)}}`;
      const result = await httpHandler(async () => ({ status: 200 }))({ body }, {} as never);
      expect(result.statusCode).to.equal(400);
      expect(JSON.parse(result.body)).to.include({ error: 'request body cannot be stored', code: 'VALIDATION_FAILED' });
    });
  });
});

describe('list tokens', () => {
  const token = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
  const after = { id: 'm-1', createdAt: '2026-01-01T00:00:00.000Z' };
  const done = { RUNNING: '0101', PARKED: '0000' };

  it('refuses a well-formed token with a bad position or shard flags (400, nextToken)', () => {
    for (const cursor of [
      { after: { ...after, status: 'PARKED' }, done },
      { after: { ...after, id: '' }, done },
      { after: { ...after, createdAt: '' }, done },
      { after: { ...after, id: 'x'.repeat(3000) }, done },
      { after, done: { ...done, RUNNING: '' } },
      { after, done: { ...done, RUNNING: 'yes' } },
      { after, done: { RUNNING: '0' } },
      { after, done: { ...done, FAILED: '0' } },
    ]) {
      const error = thrown(() => parseListQuery({ nextToken: token(cursor) }));
      expect(error, JSON.stringify(cursor)).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).details.map((issue) => issue.path)).to.deep.equal(['nextToken']);
    }
  });

  it('accepts the tokens it issues', () => {
    expect(parseListQuery({ nextToken: token({ after, done }) }).cursor).to.deep.equal({ after, done });
  });
});
