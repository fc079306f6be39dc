import type { MachineDefinition } from '../../domain/definition';
import type { FunctionScope } from '../../domain/functionRef';
import { createMachine, type MachineRecord } from '../../domain/machine';
import type { StepContext } from '../../domain/step';

export const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** The state functions of stage `dev` of service `svc`, as resources/state-functions.js would list them. */
export const scope: FunctionScope = {
  servicePrefix: 'svc-dev-',
  stateFunctions: ['prepare', 'task-1', 'task-2a', 'task-2b', 'finalize', 'noop'].map((key) => `svc-dev-${key}`),
  extraFunctionArns: ['arn:aws:lambda:us-east-1:999999999999:function:partner-*'],
  accountId: '123456789012',
  region: 'us-east-1',
  partition: 'aws',
};

export const contextAt = (now: number, maxQueueDelaySeconds = 900): StepContext => ({ now, maxQueueDelaySeconds });

export function definition(overrides: Partial<MachineDefinition> = {}): MachineDefinition {
  return {
    state: 'START',
    object: { orderId: 42 },
    config: { START: 'prepare', 'TASK-1': 'task-1', FINALIZE: 'finalize' },
    options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }, retentionDays: 7 },
    ...overrides,
  };
}

/** A machine record as the store would hold it; `overrides` adjust any field. */
export function machine(overrides: Partial<MachineRecord> = {}): MachineRecord {
  return { ...createMachine(definition(), { id: 'm-1', now: T0 }).record, ...overrides };
}
