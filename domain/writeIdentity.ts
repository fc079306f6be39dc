import type { MachineRecord } from './machine';

/**
 * Which write of a machine's record this is: its `seq` (one more at every commit) of the machine
 * added at `createdAt` (not another added again under its name). A conditional write lands only
 * on the identity it was computed from (docs/design.md "The claim").
 */
export type WriteIdentity = Pick<MachineRecord, 'seq' | 'createdAt'>;

/** Whether `stored` is still the write `read` was: nothing committed since, nor deleted and added again. */
export function sameWrite(stored: WriteIdentity | undefined, read: WriteIdentity): boolean {
  return stored !== undefined && stored.seq === read.seq && stored.createdAt === read.createdAt;
}
