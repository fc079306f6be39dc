import type { Context } from 'aws-lambda';
import { MACHINE_NAME } from '../../../domain/definition';
import {
  CallbackNotFoundError,
  ConflictError,
  DomainError,
  MachineNotFoundError,
  PayloadTooLargeError,
  ValidationError,
} from '../../../domain/errors';
import { MAX_MACHINE_BYTES } from '../../../domain/limits';
import { storableIssues } from '../../../domain/storable';
import { logger, stepMetrics } from '../../wiring/observability';

/** The parts of an API Gateway proxy event (REST v1 or HTTP API v2) the API functions use. */
export interface ProxyEvent {
  body?: string | null;
  isBase64Encoded?: boolean;
  pathParameters?: Record<string, string | undefined> | null;
  queryStringParameters?: Record<string, string | undefined> | null;
  /** HTTP API v2: what the route's authorizer established (AWS_IAM or JWT). */
  requestContext?: {
    authorizer?: {
      iam?: { userArn?: unknown } | null;
      jwt?: { claims?: Record<string, unknown> | null } | null;
    } | null;
  };
}

export interface HttpRequest {
  body: unknown;
  path: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  context: Context;
  /** Who called: the IAM caller's ARN or the JWT's subject; undefined when the API is open. */
  caller?: string;
}

export interface HttpResult {
  status: number;
  body?: unknown;
  /** Sent as is instead of JSON. */
  text?: string;
}

export interface ProxyResult {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const STATUS_BY_ERROR = new Map<Function, number>([
  [ValidationError, 400],
  [PayloadTooLargeError, 413],
  [MachineNotFoundError, 404],
  [CallbackNotFoundError, 404],
  [ConflictError, 409],
]);

/**
 * Wraps an API function: parses the body as JSON, maps domain errors to 4xx with
 * `{ error, code, details }`, and answers anything unexpected with a bare 500 (logged, never echoed).
 */
export function httpHandler(handle: (request: HttpRequest) => Promise<HttpResult>) {
  return async (event: ProxyEvent, context: Context): Promise<ProxyResult> => {
    try {
      const result = await handle({
        body: parseBody(event),
        path: event.pathParameters ?? {},
        query: event.queryStringParameters ?? {},
        context,
        ...callerField(event),
      });
      return respond(result);
    } catch (error) {
      return respond(errorResult(error));
    } finally {
      // What the request counted (MachinesStarted), as EMF on stdout: once per invocation.
      stepMetrics().flush();
    }
  };
}

/** The longest `by` kept: an assumed role's ARN with a long path fits; anything longer is cut. */
const MAX_CALLER_CHARS = 512;

/** The caller API Gateway authenticated, as history events record it (`by`). */
export function callerOf(event: ProxyEvent): string | undefined {
  const authorizer = event.requestContext?.authorizer;
  const caller = authorizer?.iam?.userArn ?? authorizer?.jwt?.claims?.sub;
  return typeof caller === 'string' && caller !== '' ? caller.slice(0, MAX_CALLER_CHARS) : undefined;
}

function callerField(event: ProxyEvent): Pick<HttpRequest, 'caller'> {
  const caller = callerOf(event);
  return caller === undefined ? {} : { caller };
}

function parseBody(event: ProxyEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MACHINE_BYTES + 16 * 1024) {
    throw new PayloadTooLargeError(`request body is ${bytes} bytes; the limit is ${MAX_MACHINE_BYTES}`, {
      bytes,
      limit: MAX_MACHINE_BYTES,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ValidationError('request body is not valid JSON', [
      { path: '(body)', message: (error as Error).message },
    ]);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw notAnObject(kindOf(body));
  // Before any schema: data nested thousands of levels deep would overflow zod's recursion.
  const unstorable = storableIssues(body, '', { levelsAbove: 1 });
  if (unstorable.length > 0) throw new ValidationError('request body cannot be stored', unstorable);
  return body;
}

/** Every route takes a JSON object, if anything (docs/design.md "The HTTP API"). */
const notAnObject = (what: string) =>
  new ValidationError('request body is not an object', [
    { path: '(body)', message: `must be a JSON object, not ${what}` },
  ]);
const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

function errorResult(error: unknown): HttpResult {
  const status = error instanceof DomainError ? STATUS_BY_ERROR.get(error.constructor) : undefined;
  if (error instanceof DomainError && status !== undefined) {
    return { status, body: { error: error.message, code: error.code, details: error.details } };
  }
  logger.error('unexpected error', error as Error);
  return { status: 500, body: { error: 'internal error' } };
}

function respond(result: HttpResult): ProxyResult {
  if (result.text !== undefined) {
    return { statusCode: result.status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: result.text };
  }
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json' },
    body: result.body === undefined ? '' : JSON.stringify(result.body),
  };
}

/** The `{id}` path parameter. */
export function machineId(request: HttpRequest): string {
  const id = request.path.id;
  if (!id) throw new ValidationError('missing machine id', [{ path: 'id', message: 'required in the path' }]);
  if (!MACHINE_NAME.test(id)) {
    throw new ValidationError('invalid machine id', [
      { path: 'id', message: 'a machine id is a name (1-128 of A-Z a-z 0-9 . _ -) or a UUID' },
    ]);
  }
  return id;
}
