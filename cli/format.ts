/** What the CLI prints for people (not --json): pure functions from API answers to text. */
import type { ApiError, DeleteResult } from '../client/apiClient';
import type { HistoryEvent, MachineSummary, MachineView } from '../domain/machine';

/** Columns padded to their widest cell, headed by the upper-cased column names; `(none)` for no rows. */
export function table(rows: object[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (row: object, column: string) => {
    const value = (row as Record<string, unknown>)[column];
    return value === undefined || value === null ? '' : String(value);
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r, c).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...rows.map((r) => line(columns.map((c) => cell(r, c))))].join(
    '\n',
  );
}

/** `fsm list`: one row per machine, and a hint when there are more pages. */
export function machineTable(items: MachineSummary[], more = false): string {
  const rows = table(items, ['id', 'name', 'status', 'state', 'version', 'createdAt']);
  return more ? `${rows}\n(more: use --all-pages)` : rows;
}

/** `fsm get`: one labelled line per field. */
export function describeMachine(m: MachineView): string {
  const lines = [
    `id        ${m.id}${m.name && m.name !== m.id ? ` (${m.name})` : ''}`,
    `status    ${m.status}${m.handlerRunning ? ' (handler running)' : ''}${m.removing ? ' (being removed)' : ''}`,
    `state     ${m.state}`,
    `version   ${m.version}  attempt ${m.attempt}`,
    `created   ${m.createdAt}`,
    `updated   ${m.updatedAt}`,
  ];
  if (m.wakeAt) lines.push(`wakes at  ${m.wakeAt}`);
  if (m.finishedAt) lines.push(`finished  ${m.finishedAt}`);
  if (m.error) lines.push(`error     ${m.error.message} (in ${m.error.state})`);
  if (m.caught) lines.push(`caught    ${m.caught.message} (in ${m.caught.state}, attempt ${m.caught.attempt})`);
  lines.push(`object    ${JSON.stringify(m.object)}`);
  return lines.join('\n');
}

/** One history event: version, outcome, the move it made and what else happened. */
export function describeEvent(e: HistoryEvent): string {
  const move = e.to !== undefined && e.from !== undefined ? `${e.from} -> ${e.to}` : (e.from ?? e.to ?? '');
  const extras = [
    e.delay ? `delay ${e.delay}s` : '',
    ['retry', 'failed', 'caught', 'woken'].includes(e.outcome) ? `attempt ${e.attempt}` : '',
    e.error ? `error: ${e.error}` : '',
    e.by ? `by ${e.by}` : '',
  ].filter(Boolean);
  return `v${e.version} ${e.outcome.padEnd(10)} ${move}${extras.length ? `  (${extras.join(', ')})` : ''}`;
}

/** `fsm history`: one line per event with its time. */
export function describeHistory(events: HistoryEvent[]): string {
  return events.map((e) => `${e.at}  ${describeEvent(e)}`).join('\n');
}

export const describeAdded = (m: MachineView) => `added ${m.id} (${m.status}, state ${m.state})`;
export const describeResumed = (id: string, m: MachineView) => `resumed ${id} (${m.status}, state ${m.state})`;
export const describeRedriven = (id: string, m: MachineView) =>
  `redriven ${id} (${m.status}, state ${m.state}, version ${m.version})`;
export const describeWoken = (id: string, m: MachineView) =>
  `woke ${id} (state ${m.state}: its step runs now instead of waiting)`;

/** `fsm redrive --status FAILED`: what happened to the machines it found. */
export interface BulkRedriveSummary {
  found: number;
  redriven: string[];
  /** Not FAILED any more, or gone, by the time it was redriven (409, 404). */
  skipped: { id: string; reason: string }[];
  failed: { id: string; reason: string }[];
}

export function describeBulkRedrive(summary: BulkRedriveSummary): string {
  const lines = [
    `redriven ${summary.redriven.length} of ${summary.found} FAILED machines` +
      `, skipped ${summary.skipped.length}, failed ${summary.failed.length}`,
  ];
  for (const { id, reason } of summary.skipped) lines.push(`  skipped ${id}: ${reason}`);
  for (const { id, reason } of summary.failed) lines.push(`  failed  ${id}: ${reason}`);
  return lines.join('\n');
}

export const describeDeleted = ({ id, removing }: DeleteResult) =>
  removing ? `${id} will be deleted when its running step ends` : `deleted ${id}`;

/** `fsm watch`: its first line. */
export const describeWatching = (id: string, m: MachineView) => `watching ${id} (state ${m.state}, ${m.status})`;

/** `fsm watch`: one event, timed from when the machine was added (`createdAt`). */
export function describeWatchedEvent(e: HistoryEvent, createdAt: string): string {
  const elapsed = `+${((Date.parse(e.at) - Date.parse(createdAt)) / 1000).toFixed(1)}s`.padStart(8);
  return `${elapsed}  ${describeEvent(e)}`;
}

/** `fsm watch`: its last line, once the machine has finished. */
export function describeOutcome(m: MachineView): string {
  return `${m.status} in state ${m.state} after ${m.version} steps${m.error ? `: ${m.error.message}` : ''}`;
}

/** An error answer on one line: the API's message, the fields at fault, and the status. */
export function describeApiError(error: ApiError): string {
  const details = error.details.length ? `: ${error.details.map((d) => `${d.path}: ${d.message}`).join('; ')}` : '';
  return `${error.message}${details} (HTTP ${error.status})`;
}
