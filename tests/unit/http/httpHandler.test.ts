import { expect } from 'chai';
import { ConflictError, DomainError, MachineNotFoundError, ValidationError } from '../../../domain/errors';
import { MAX_MACHINE_BYTES } from '../../../domain/limits';
import {
  callerOf,
  type HttpRequest,
  httpHandler,
  machineId,
  type ProxyEvent,
} from '../../../handlers/entrypoints/http/httpHandler';
import { logger } from '../../../handlers/wiring/observability';

const context = { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-api' } as never;

/** Calls a handler built around `handle` with `event`, and returns the proxy result. */
function call(
  handle: (request: HttpRequest) => Promise<{ status: number; body?: unknown; text?: string }>,
  event: ProxyEvent,
) {
  return httpHandler(handle)(event, context);
}

const echo = async (request: HttpRequest) => ({
  status: 200,
  body: { body: request.body, path: request.path, query: request.query },
});

describe('the HTTP mapping', () => {
  describe('requests', () => {
    it('parses a JSON body and passes path and query parameters', async () => {
      const result = await call(echo, {
        body: '{"a":1}',
        pathParameters: { id: 'm-1' },
        queryStringParameters: { limit: '5' },
      });
      expect(result.statusCode).to.equal(200);
      expect(result.headers).to.deep.equal({ 'content-type': 'application/json' });
      expect(JSON.parse(result.body)).to.deep.equal({ body: { a: 1 }, path: { id: 'm-1' }, query: { limit: '5' } });
    });

    it('decodes a base64 body', async () => {
      const result = await call(echo, { body: Buffer.from('{"b":2}').toString('base64'), isBase64Encoded: true });
      expect(JSON.parse(result.body).body).to.deep.equal({ b: 2 });
    });

    it('reads no body, an empty body and a null body as no body', async () => {
      for (const body of [undefined, null, '']) {
        const result = await call(echo, { body });
        expect(JSON.parse(result.body)).to.deep.equal({ path: {}, query: {} });
      }
    });

    it('answers 400 "not an object" for any body that is present but not an object', async () => {
      const cases: [ProxyEvent, string][] = [
        [{ body: 'null' }, 'null'],
        [{ body: '[{"state":"S"}]' }, 'an array'],
        [{ body: '"{}"' }, 'a string'],
        [{ body: '0' }, 'a number'],
        [{ body: 'false' }, 'a boolean'],
        [{ body: Buffer.from('null').toString('base64'), isBase64Encoded: true }, 'null'],
      ];
      for (const [event, what] of cases) {
        const result = await call(echo, event);
        expect(result.statusCode, JSON.stringify(event)).to.equal(400);
        expect(JSON.parse(result.body)).to.deep.equal({
          error: 'request body is not an object',
          code: 'VALIDATION_FAILED',
          details: [{ path: '(body)', message: `must be a JSON object, not ${what}` }],
        });
      }
    });

    it('answers 400 naming (body) for a body that is not JSON', async () => {
      const result = await call(echo, { body: '{nope' });
      expect(result.statusCode).to.equal(400);
      const body = JSON.parse(result.body);
      expect(body).to.include({ error: 'request body is not valid JSON', code: 'VALIDATION_FAILED' });
      expect(body.details).to.have.length(1);
      expect(body.details[0].path).to.equal('(body)');
    });

    it('answers 413 for a body past the limit, before parsing it', async () => {
      const limit = MAX_MACHINE_BYTES + 16 * 1024;
      const atLimit = await call(echo, { body: `{"a":"${'x'.repeat(limit - 8)}"}` });
      expect(atLimit.statusCode).to.equal(200);
      const result = await call(echo, { body: `{"a":"${'x'.repeat(limit - 7)}"}` });
      expect(result.statusCode).to.equal(413);
      expect(JSON.parse(result.body)).to.deep.equal({
        error: `request body is ${limit + 1} bytes; the limit is ${MAX_MACHINE_BYTES}`,
        code: 'PAYLOAD_TOO_LARGE',
        details: { bytes: limit + 1, limit: MAX_MACHINE_BYTES },
      });
    });
  });

  describe('responses', () => {
    it('sends text as text/plain', async () => {
      const result = await call(async () => ({ status: 200, text: 'stateDiagram-v2' }), {});
      expect(result).to.deep.equal({
        statusCode: 200,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: 'stateDiagram-v2',
      });
    });

    it('sends an empty body when there is none', async () => {
      expect((await call(async () => ({ status: 204 }), {})).body).to.equal('');
    });
  });

  describe('errors', () => {
    const failWith = (error: unknown) => async () => {
      throw error;
    };

    it('maps each domain error to its status with { error, code, details }', async () => {
      const cases: [DomainError, number][] = [
        [new ValidationError('bad', [{ path: 'state', message: 'required' }]), 400],
        [new MachineNotFoundError('m-1'), 404],
        [new ConflictError('busy', { status: 'RUNNING' }), 409],
      ];
      for (const [error, status] of cases) {
        const result = await call(failWith(error), {});
        expect(result.statusCode, error.name).to.equal(status);
        expect(JSON.parse(result.body)).to.deep.equal({
          error: error.message,
          code: error.code,
          details: error.details,
        });
      }
    });

    it('answers anything else with a bare 500 that echoes nothing, and logs it', async () => {
      const logged: unknown[] = [];
      const original = logger.error.bind(logger);
      logger.error = ((...args: unknown[]) => {
        logged.push(args);
      }) as typeof logger.error;
      try {
        const result = await call(failWith(new Error('secret table name')), {});
        expect(result.statusCode).to.equal(500);
        expect(JSON.parse(result.body)).to.deep.equal({ error: 'internal error' });
        expect(logged).to.have.length(1);
      } finally {
        logger.error = original;
      }
    });

    it('answers 500 for a domain error it has no status for', async () => {
      class Unmapped extends DomainError {
        readonly code = 'UNMAPPED';
      }
      const original = logger.error.bind(logger);
      logger.error = (() => undefined) as typeof logger.error;
      try {
        expect((await call(failWith(new Unmapped('x')), {})).statusCode).to.equal(500);
      } finally {
        logger.error = original;
      }
    });
  });

  describe('machineId', () => {
    it('reads the {id} path parameter', () => {
      expect(machineId({ path: { id: 'm-1' } } as unknown as HttpRequest)).to.equal('m-1');
    });

    it('answers 400 naming id when it is missing', () => {
      expect(() => machineId({ path: {} } as unknown as HttpRequest))
        .to.throw(ValidationError)
        .with.property('details')
        .that.deep.equals([{ path: 'id', message: 'required in the path' }]);
    });
  });

  describe('the caller', () => {
    it("is the IAM caller's ARN or the JWT's subject from the request context, and nobody when the API is open", async () => {
      const arn = 'arn:aws:sts::123456789012:assumed-role/ops/alice';
      expect(callerOf({ requestContext: { authorizer: { iam: { userArn: arn } } } })).to.equal(arn);
      expect(callerOf({ requestContext: { authorizer: { jwt: { claims: { sub: 'user-7', iss: 'x' } } } } })).to.equal(
        'user-7',
      );
      // serverless-offline's open API: an empty JWT context.
      expect(callerOf({ requestContext: { authorizer: { jwt: { claims: null } } } })).to.equal(undefined);
      expect(callerOf({})).to.equal(undefined);
      expect(callerOf({ requestContext: { authorizer: { iam: { userArn: 'x'.repeat(2000) } } } })).to.have.length(512);
      const seen = await call(async (request) => ({ status: 200, body: { caller: request.caller ?? null } }), {
        requestContext: { authorizer: { iam: { userArn: arn } } },
      });
      expect(JSON.parse(seen.body)).to.deep.equal({ caller: arn });
    });
  });
});
