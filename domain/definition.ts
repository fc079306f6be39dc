import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type FieldIssue, PayloadTooLargeError, ValidationError } from './errors';
import { type FunctionScope, isWellFormedReference, resolveFunction } from './functionRef';
import {
  DEFAULT_LEASE_SECONDS,
  INVOKE_SHARE_OF_LEASE,
  invokeTimeoutMs,
  MAX_DELAY_SECONDS,
  MAX_MACHINE_BYTES,
  MAX_STATE_TIMEOUT_SECONDS,
} from './limits';
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

/** The key of `catch` and `timeouts` that stands for every state without an entry of its own. */
export const ANY_STATE = '*';

const stateOrAnySchema = z.union([z.literal(ANY_STATE), stateNameSchema]);

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
    /** Where a state's failure goes instead of FAILED, once its retries are spent. */
    catch: z.record(stateOrAnySchema, stateNameSchema).optional(),
    /** A state's handler timeout, whole seconds. */
    timeouts: z.record(stateOrAnySchema, z.number().int().min(1).max(MAX_STATE_TIMEOUT_SECONDS)).optional(),
    /** When the first step runs at the earliest (docs/design.md "Start later"): at most a year ahead. */
    startAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time (2026-01-31T09:00:00Z)' }).optional(),
    /** Or: seconds from now. */
    startDelay: z
      .number({ error: 'must be a whole number of seconds' })
      .int({ error: 'must be a whole number of seconds' })
      .min(0, { error: 'must not be negative' })
      .max(MAX_DELAY_SECONDS, { error: `must be at most ${MAX_DELAY_SECONDS} seconds (one year)` })
      .optional(),
  })
  .superRefine((definition, ctx) => {
    if (definition.startAt !== undefined && definition.startDelay !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['startDelay'], message: 'give startAt or startDelay, not both' });
    }
    const inConfig = (state: string) => Object.hasOwn(definition.config, state);
    if (!inConfig(definition.state)) {
      ctx.addIssue({
        code: 'custom',
        path: ['state'],
        message: `start state '${definition.state}' is not a key of config`,
      });
    }
    for (const field of ['catch', 'timeouts'] as const) {
      for (const key of Object.keys(definition[field] ?? {})) {
        if (key !== ANY_STATE && !inConfig(key)) {
          ctx.addIssue({
            code: 'custom',
            path: [field, key],
            message: `'${key}' is neither a key of config nor '${ANY_STATE}'`,
          });
        }
      }
    }
    for (const [key, target] of Object.entries(definition.catch ?? {})) {
      if (!inConfig(target)) {
        ctx.addIssue({
          code: 'custom',
          path: ['catch', key],
          message: `catch state '${target}' is not a key of config`,
        });
      } else if (target === key) {
        ctx.addIssue({
          code: 'custom',
          path: ['catch', key],
          message: `a state cannot catch its own failures (that is a retry: options.retry)`,
        });
      }
    }
  });

export type MachineDefinition = z.infer<typeof machineDefinitionSchema>;
export type MachineOptions = z.infer<typeof machineOptionsSchema>;
export type Json = z.infer<ReturnType<typeof z.json>>;

export function byteLength(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value) ?? '').length;
}

/**
 * zod issues as `{ path, message }` pairs, the path dotted (`config.START`, `options.retry.maxAttempts`),
 * after `under` when the value checked is part of something larger (`result.delay`).
 */
export function fieldIssues(error: z.ZodError, under: string[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...under, ...issue.path.map(String)].join('.') || '(root)',
    message: issue.message,
  }));
}

/** What a deployment can honour: the longest handler timeout its transition processor can wait for. */
export interface DeploymentBounds {
  /** The lease of the transition processor, seconds (`LEASE_SECONDS`, 70 unless told). */
  leaseSeconds: number;
}

/** The longest state timeout a deployment can honour: the invoke's share of the processor's lease. */
export function maxStateTimeoutSeconds(bounds: DeploymentBounds): number {
  return Math.min(Math.floor(invokeTimeoutMs(bounds.leaseSeconds) / 1000), MAX_STATE_TIMEOUT_SECONDS);
}

/**
 * Checks a client's machine definition: its shape, its size, that every function it names is
 * on the allow-list and that its timeouts fit the deployment. Returns the definition with
 * defaults applied; throws ValidationError (400) or PayloadTooLargeError (413).
 */
export function parseMachineDefinition(
  input: unknown,
  scope: FunctionScope,
  bounds: DeploymentBounds = { leaseSeconds: DEFAULT_LEASE_SECONDS },
): MachineDefinition {
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
  const longest = maxStateTimeoutSeconds(bounds);
  const tooLong = Object.entries(parsed.data.timeouts ?? {})
    .filter(([, seconds]) => seconds > longest)
    .map(([state, seconds]) => ({
      path: `timeouts.${state}`,
      message:
        `${seconds} s is longer than this deployment can wait for a handler: at most ${longest} s, ` +
        `the transition processor's invoke share (${INVOKE_SHARE_OF_LEASE}) of its ${bounds.leaseSeconds} s lease on a step`,
    }));
  const issues = [...refused, ...tooLong];
  if (issues.length > 0) throw new ValidationError('invalid machine definition', issues);
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
