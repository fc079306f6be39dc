import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type FieldIssue, PayloadTooLargeError, ValidationError } from './errors';
import { type FunctionScope, isWellFormedReference, resolveFunction } from './functionRef';
import { MAX_MACHINE_BYTES } from './limits';
import { storableIssues } from './storable';

/** A machine's name, which is also its id and a path segment of the API: `.` and `..` cannot be. */
export const MACHINE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;

export const stateNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters (line breaks, tabs, ...)');

const functionReferenceSchema = z
  .string()
  .refine(isWellFormedReference, 'must be a Lambda function name (1-64 of A-Z a-z 0-9 - _) or a Lambda function ARN');

export const retryOptionsSchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).default(3),
  backoffSeconds: z.number().min(0).max(86_400).default(1),
  backoffRate: z.number().min(1).max(10).default(2),
});

export const machineOptionsSchema = z.strictObject({
  retry: retryOptionsSchema.default({ maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }),
  retentionDays: z.number().int().min(1).max(3650).default(7),
});

export const machineDefinitionSchema = z
  .strictObject({
    name: z.string().regex(MACHINE_NAME, 'must be 1-128 of A-Z a-z 0-9 . _ -, and not . or ..').optional(),
    state: stateNameSchema,
    object: z.json().default({}),
    config: z
      .record(stateNameSchema, functionReferenceSchema)
      .refine((config) => Object.keys(config).length > 0, 'must name at least one state'),
    options: machineOptionsSchema.default({
      retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 },
      retentionDays: 7,
    }),
  })
  .superRefine((definition, ctx) => {
    if (!Object.hasOwn(definition.config, definition.state)) {
      ctx.addIssue({
        code: 'custom',
        path: ['state'],
        message: `start state '${definition.state}' is not a key of config`,
      });
    }
  });

export type MachineDefinition = z.infer<typeof machineDefinitionSchema>;
export type MachineOptions = z.infer<typeof machineOptionsSchema>;
export type Json = z.infer<ReturnType<typeof z.json>>;

export function byteLength(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}

/** zod issues as `{ path, message }` pairs, the path dotted (`config.START`, `options.retry.maxAttempts`). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/**
 * Checks a client's machine definition: its shape, its size and that every function it names is
 * on the allow-list. Returns the definition with defaults applied; throws ValidationError (400)
 * or PayloadTooLargeError (413).
 */
export function parseMachineDefinition(input: unknown, scope: FunctionScope): MachineDefinition {
  // First, as everything after it recurses: data nested thousands of levels deep would overflow it.
  const unstorable = storableIssues(input, '', { levelsAbove: 1 });
  if (unstorable.length > 0) throw new ValidationError('invalid machine definition', unstorable);
  const size = byteLength(input);
  if (size > MAX_MACHINE_BYTES) {
    throw new PayloadTooLargeError(`machine definition is ${size} bytes; the limit is ${MAX_MACHINE_BYTES}`, {
      bytes: size,
      limit: MAX_MACHINE_BYTES,
    });
  }
  const parsed = machineDefinitionSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError('invalid machine definition', fieldIssues(parsed.error));
  const refused = Object.entries(parsed.data.config)
    .filter(([, reference]) => resolveFunction(reference, scope) === undefined)
    .map(([state, reference]) => ({
      path: `config.${state}`,
      message: `function '${reference}' is not on this service's allow-list`,
    }));
  if (refused.length > 0) throw new ValidationError('invalid machine definition', refused);
  return parsed.data;
}

/** Stable fingerprint of a definition, so adding the same named machine twice is recognised. */
export function definitionFingerprint(definition: MachineDefinition): string {
  return createHash('sha256').update(canonicalJson(definition)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1)); // keys of one object are unique
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
