import type { StateHandler } from '../domain/contract';

/**
 * The original project's example workflow: START -> TASK-1 -> TASK-2a | TASK-2b -> FINALIZE -> done.
 * Each step appends its state to `object.trail`; `object.delay` (seconds, default 0) slows the demo
 * down; `object.branch` ('a' or 'b') pins task-1's otherwise random choice.
 */
interface WorkflowObject {
  trail?: string[];
  delay?: number;
  branch?: 'a' | 'b';
  [key: string]: unknown;
}

const visit = (object: WorkflowObject, state: string): WorkflowObject => ({
  ...object,
  trail: [...(object.trail ?? []), state],
});

const goTo = (state: string, object: WorkflowObject, current: string) => ({
  state,
  object: visit(object, current),
  delay: object.delay ?? 0,
});

export const prepare: StateHandler<WorkflowObject> = async ({ object, state }) => goTo('TASK-1', object, state);

export const task1: StateHandler<WorkflowObject> = async ({ object, state }) => {
  const branch = object.branch ?? (Math.random() < 0.5 ? 'a' : 'b');
  return goTo(`TASK-2${branch}`, object, state);
};

export const task2a: StateHandler<WorkflowObject> = async ({ object, state }) => goTo('FINALIZE', object, state);

export const task2b: StateHandler<WorkflowObject> = async ({ object, state }) => goTo('FINALIZE', object, state);

/**
 * Ends the machine. The original deleted it here; now it is kept as SUCCEEDED until it expires.
 * It logs who finished and the path taken, never the machine's object (it may hold anything).
 */
export const finalize: StateHandler<WorkflowObject> = async ({ id, object, state }) => {
  console.log(JSON.stringify({ message: 'machine finished', id, state, steps: visit(object, state).trail?.length }));
  return null;
};
