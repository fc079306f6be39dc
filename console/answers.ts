/**
 * What the console server answers its page (console/web/) beyond the API's own answers: the
 * list's overview and a machine with one page of its history. Built from the API's types in
 * domain/, so the server and the page read one definition.
 */
import type { HistoryEvent, MachineSummary, MachineView } from '../domain/machine';
import type { MachineStatus } from '../domain/status';

/** GET /api/overview: every status counted (`capped`: at the console's cap), one page of the filtered machines. */
export interface OverviewAnswer {
  counts: Record<MachineStatus, number>;
  capped: Record<MachineStatus, boolean>;
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
  items: Omit<MachineSummary, 'expiresAt'>[];
  now: string;
}

/** GET /api/machines/{id}: the machine and one page of its history, oldest first. */
export interface MachinePageAnswer {
  machine: MachineView;
  history: { total: number; page: number; pageCount: number; pageSize: number; events: HistoryEvent[] };
  now: string;
}
