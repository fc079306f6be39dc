import type { HistoryEvent, MachineRecord } from './machine';
import { catchTarget } from './step';

const FINAL = '[*]';

/**
 * A Mermaid `stateDiagram-v2` of a machine: every state of its config, every transition its
 * history shows (labelled with how often it happened), the `catch` edges its definition declares
 * (labelled `catch`, with how often they caught), `[*]` for the start and the finish, and the
 * current state highlighted (by status: running, parked, succeeded or failed).
 */
export function mermaidDiagram(record: MachineRecord, history: HistoryEvent[]): string {
  const ids = stateIds(record);
  const lines = ['stateDiagram-v2'];
  for (const [name, id] of ids) lines.push(`    state "${name.replaceAll('"', "'")}" as ${id}`);
  for (const { from, to, count, note } of diagramEdges(record, history)) {
    const label = [note, count > 1 ? `${count}x` : undefined].filter(Boolean).join(' ');
    lines.push(`    ${from} --> ${to}${label ? ` : ${label}` : ''}`);
  }
  lines.push(
    '    classDef running fill:#fde68a,stroke:#b45309,stroke-width:2px',
    '    classDef parked fill:#bfdbfe,stroke:#1d4ed8,stroke-width:2px',
    '    classDef succeeded fill:#bbf7d0,stroke:#15803d,stroke-width:2px',
    '    classDef failed fill:#fecaca,stroke:#b91c1c,stroke-width:2px',
    `    class ${ids.get(record.state) ?? FINAL} ${record.status.toLowerCase()}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Mermaid state ids cannot hold every character a state name can: `s` + the state's position in config. */
function stateIds(record: MachineRecord): Map<string, string> {
  return new Map(Object.keys(record.config).map((name, i) => [name, `s${i}`]));
}

/** The diagram's edges between Mermaid ids: declared catches, then what the history shows, with counts. */
export function diagramEdges(
  record: MachineRecord,
  history: HistoryEvent[],
): { from: string; to: string; count: number; note?: string }[] {
  const states = Object.keys(record.config);
  const ids = stateIds(record);
  const idOf = (name: string | undefined) => ids.get(name as string) ?? FINAL;

  const edges = new Map<string, { from: string; to: string; count: number; note?: string }>();
  const addEdge = (from: string, to: string, note?: string, times = 1) => {
    const key = `${from}>${to}>${note ?? ''}`;
    const edge = edges.get(key) ?? { from, to, count: 0, ...(note ? { note } : {}) };
    edge.count += times;
    edges.set(key, edge);
  };
  // Declared before anything happens, so a catch shows even if it never caught (0 times).
  if (record.catch && Object.keys(record.catch).length > 0) {
    for (const state of states) {
      const target = catchTarget({ ...record, state });
      if (target !== undefined) addEdge(idOf(state), idOf(target), 'catch', 0);
    }
  }
  for (const event of history) {
    switch (event.outcome) {
      case 'created':
        addEdge(FINAL, idOf(event.to));
        break;
      case 'transition':
      case 'parked':
        addEdge(idOf(event.from), idOf(event.to), event.outcome === 'parked' ? 'parks' : undefined);
        break;
      case 'resumed':
        if (event.from !== event.to) addEdge(idOf(event.from), idOf(event.to), 'resumed');
        break;
      case 'retry':
        addEdge(idOf(event.from), idOf(event.from), 'retry');
        break;
      case 'succeeded':
        addEdge(idOf(event.from), FINAL);
        break;
      case 'failed':
        addEdge(idOf(event.from), FINAL, 'failed');
        break;
      case 'caught':
        addEdge(idOf(event.from), idOf(event.to), 'catch');
        break;
      case 'redriven':
        addEdge(idOf(event.from), idOf(event.to), 'redriven');
        break;
      case 'removal':
      case 'woken':
      case 'heartbeat':
        break;
      case 'callback-failed':
      case 'timed-out':
      case 'heartbeat-missed':
        addEdge(
          idOf(event.from),
          event.to === undefined ? FINAL : idOf(event.to),
          event.to === undefined ? 'failed' : 'catch',
        );
        break;
    }
  }

  return [...edges.values()];
}
