import { diagramEdges } from './diagram';
import { PayloadTooLargeError } from './errors';
import { MAX_SVG_EDGES, MAX_SVG_STATES } from './limits';
import type { HistoryEvent, MachineRecord, MachineStatus } from './machine';

/** The content type of the SVG diagram. */
export const SVG_CONTENT_TYPE = 'image/svg+xml; charset=utf-8';

/** Fill and stroke of the current state, by status (the same colours as the Mermaid classDefs). */
export const STATUS_COLOURS: Record<MachineStatus, { fill: string; stroke: string }> = {
  RUNNING: { fill: '#fde68a', stroke: '#b45309' },
  PARKED: { fill: '#bfdbfe', stroke: '#1d4ed8' },
  SUCCEEDED: { fill: '#bbf7d0', stroke: '#15803d' },
  FAILED: { fill: '#fecaca', stroke: '#b91c1c' },
};

/** Edges by label: the path taken is dark, retries amber and dashed, parking blue, failure red. */
const EDGE_STYLE = `
  polyline.edge { stroke: #3f3f46; stroke-width: 1.5px; }
  polyline.edge[data-label^="retry"] { stroke: #b45309; stroke-dasharray: 5 3; }
  polyline.edge[data-label^="parks"], polyline.edge[data-label^="resumed"] { stroke: #1d4ed8; }
  polyline.edge[data-label^="failed"] { stroke: #b91c1c; stroke-width: 2px; }
  polyline.edge[data-label^="catch"], polyline.edge[data-label^="redriven"] { stroke: #7e22ce; }
  g.edge-label[data-label^="retry"] > text { fill: #92400e; font-weight: 600; }
  g.edge-label[data-label^="parks"] > text, g.edge-label[data-label^="resumed"] > text { fill: #1e40af; font-weight: 600; }
  g.edge-label[data-label^="failed"] > text { fill: #991b1b; font-weight: 600; }
  g.edge-label[data-label^="catch"] > text, g.edge-label[data-label^="redriven"] > text { fill: #6b21a8; font-weight: 600; }
  g.node.unvisited > rect { stroke-dasharray: 4 3; }
  g.node.unvisited > text { fill: #71717a; }
  g.node.visited > rect { stroke: #52525b; stroke-width: 1.25px; }`;

/** What the SVG marks: the current state (by Mermaid id) and status, and the states the history entered. */
export interface DiagramMarks {
  /** The current state's Mermaid id; none when the state is not in config. */
  current?: string;
  currentName: string;
  status: MachineStatus;
  visited: Set<string>;
}

/**
 * The Mermaid ids of `mermaidDiagram` (`s` + the state's position in config) of the current
 * state and of every state an event of `history` left or entered.
 */
export function diagramMarks(record: Pick<MachineRecord, 'config' | 'state' | 'status'>, history: HistoryEvent[]) {
  const names = Object.keys(record.config);
  const idOf = (name: string | undefined) => {
    const index = name === undefined ? -1 : names.indexOf(name);
    return index < 0 ? undefined : `s${index}`;
  };
  const visited = new Set<string>();
  for (const name of [record.state, ...history.flatMap((event) => [event.from, event.to])]) {
    const id = idOf(name);
    if (id) visited.add(id);
  }
  const current = idOf(record.state);
  return { ...(current ? { current } : {}), currentName: record.state, status: record.status, visited };
}

/**
 * Refuses a diagram over MAX_SVG_STATES or MAX_SVG_EDGES (PayloadTooLargeError, 413) before any
 * layout: laying it out would take too long.
 */
export function checkSvgSize(record: MachineRecord, history: HistoryEvent[]): void {
  const states = Object.keys(record.config).length;
  const edges = diagramEdges(record, history).length;
  if (states > MAX_SVG_STATES || edges > MAX_SVG_EDGES) {
    throw new PayloadTooLargeError(
      `the diagram has ${states} states and ${edges} edges, too many to lay out as SVG (at most ${MAX_SVG_STATES} and ${MAX_SVG_EDGES}); its Mermaid text is at ?format=mermaid`,
      { states, edges, maxStates: MAX_SVG_STATES, maxEdges: MAX_SVG_EDGES },
    );
  }
}

/**
 * Marks up the SVG beautiful-mermaid lays out from `mermaidDiagram`'s text, by Mermaid state id,
 * because the renderer ignores `classDef`: the current state is filled with its status colour
 * and has the classes `current` and its status, states the history entered are `visited` (the
 * others `unvisited`, dashed), and retry, park, failure and catch edges are coloured. The
 * renderer's web-font `@import` is removed: the SVG loads nothing.
 */
export function decorateSvg(svg: string, marks: DiagramMarks): string {
  const { fill, stroke } = STATUS_COLOURS[marks.status];
  const status = marks.status.toLowerCase();
  const title = `State diagram: ${marks.currentName} is ${marks.status}`;
  const style = `${EDGE_STYLE}
  g.node.current > rect { fill: ${fill}; stroke: ${stroke}; stroke-width: 3px; }
  g.node.current > text { font-weight: 700; }`;
  return svg
    .replace(/^[ \t]*@import\b.*\n?/gm, '')
    .replace(
      /^<svg /,
      `<svg role="img" aria-label="${escapeXml(title)}" data-state="${escapeXml(marks.currentName)}" data-status="${marks.status}" `,
    )
    .replace(/(<svg [^>]*>)/, `$1\n<title>${escapeXml(title)}</title>`)
    .replace('</style>', `${style}\n</style>`)
    .replace(/<g class="node" data-id="(s\d+)"/g, (_, id: string) => {
      const classes = ['node', marks.visited.has(id) ? 'visited' : 'unvisited'];
      if (id === marks.current) classes.push('current', status);
      return `<g class="${classes.join(' ')}" data-id="${id}"`;
    });
}

/** Escapes text for an XML attribute or text node. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
