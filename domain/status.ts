/**
 * A machine's statuses, apart from the record's schemas in machine.ts (which re-exports them):
 * the CLI and the console server read them without loading zod.
 */
export const STATUSES = ['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'] as const;
export type MachineStatus = (typeof STATUSES)[number];
export const ALIVE_STATUSES: readonly MachineStatus[] = ['RUNNING', 'PARKED'];

export function isFinished(status: MachineStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED';
}
