import { expect } from 'chai';
import { decorateSvg, diagramMarks, escapeXml, STATUS_COLOURS, SVG_CONTENT_TYPE } from '../../../domain/diagramSvg';
import { PayloadTooLargeError } from '../../../domain/errors';
import { MAX_SVG_EDGES, MAX_SVG_STATES } from '../../../domain/limits';
import type { HistoryEvent } from '../../../domain/machine';
import { renderDiagramSvg as diagramSvg } from '../../../handlers/adapters/diagram/svgRenderer';
import { machine } from '../../helpers/factories';

const at = '2026-01-01T00:00:00.000Z';
const event = (seq: number, e: Omit<HistoryEvent, 'seq' | 'at' | 'version'>): HistoryEvent => ({
  seq,
  at,
  version: seq,
  ...e,
});

/** The `<g class="node ...">` opening tag of the state labelled `label`. */
function nodeTag(svg: string, label: string): string {
  const tag = svg.match(new RegExp(`<g class="[^"]*" data-id="s\\d+" data-label="${label}"[^>]*>`));
  expect(tag, `a node labelled ${label}`).to.not.equal(null);
  return (tag as RegExpMatchArray)[0];
}

describe('diagramSvg', function () {
  // The first render loads the renderer and its layout engine: seconds of CPU, more in the niced
  // checks lane beside three stacks (the lane's own 60 s).
  this.timeout(60_000);

  const finished = [
    event(0, { outcome: 'created', to: 'START' }),
    event(1, { outcome: 'transition', from: 'START', to: 'TASK-1' }),
    event(2, { outcome: 'retry', from: 'TASK-1', attempt: 2, error: 'boom' }),
    event(3, { outcome: 'transition', from: 'TASK-1', to: 'FINALIZE' }),
    event(4, { outcome: 'succeeded', from: 'FINALIZE' }),
  ];

  it('draws every state as an SVG, the current one marked with its status, and loads nothing', async () => {
    const svg = await diagramSvg(
      machine({
        state: 'FINALIZE',
        status: 'SUCCEEDED',
        config: { START: 'a', 'TASK-1': 'b', NEVER: 'c', FINALIZE: 'd' },
      }),
      finished,
    );
    expect(svg).to.match(/^<svg role="img" [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg.trimEnd()).to.match(/<\/svg>$/);
    expect(svg).to.include('<title>State diagram: FINALIZE is SUCCEEDED</title>');
    expect(svg).to.include('data-state="FINALIZE" data-status="SUCCEEDED"');
    expect(svg).not.to.include('@import');
    expect(svg).not.to.match(/https?:\/\/(?!www\.w3\.org)/);
    expect(nodeTag(svg, 'FINALIZE')).to.include('class="node visited current succeeded"');
    expect(nodeTag(svg, 'START')).to.include('class="node visited"');
    expect(nodeTag(svg, 'TASK-1')).to.include('class="node visited"');
    expect(nodeTag(svg, 'NEVER')).to.include('class="node unvisited"');
    expect(svg).to.include('g.node.current > rect { fill: #bbf7d0; stroke: #15803d;');
    expect(svg).to.match(/<polyline class="edge" data-from="s1" data-to="s1"[^>]* data-label="retry"/);
  });

  it('escapes state names and colours a failed, parked or running machine', async () => {
    const record = machine({ state: 'a<b>&"c\'', status: 'FAILED', config: { 'a<b>&"c\'': 'x' } });
    const svg = await diagramSvg(record, [
      event(0, { outcome: 'created', to: 'a<b>&"c\'' }),
      event(1, { outcome: 'failed', from: 'a<b>&"c\'' }),
    ]);
    expect(svg).to.include('data-state="a&#60;b&#62;&#38;&#34;c&#39;"');
    expect(svg).not.to.include('a<b>');
    expect(svg).to.include('class="node visited current failed"');
    expect(svg).to.include('fill: #fecaca');
    expect(svg).to.match(/data-to="_end"[^>]* data-label="failed"/);

    const marks = diagramMarks(machine({ status: 'PARKED' }), []);
    const parked = decorateSvg(
      '<svg x="1"><style></style><g class="node" data-id="s0" data-label="START"></svg>',
      marks,
    );
    expect(parked).to.include('<g class="node visited current parked" data-id="s0"');
    expect(parked).to.include('fill: #bfdbfe');
  });

  it('refuses a diagram of more states or edges than it draws (413, with the limits)', async () => {
    const states = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`S${i}`, 'noop']));
    // A catch of every state to the last: one edge per other state.
    const everyCaught = (n: number) => machine({ config: states(n), state: 'S0', catch: { '*': `S${n - 1}` } });
    const chain = (n: number) =>
      Array.from({ length: n }, (_, i) => event(i + 1, { outcome: 'transition', from: `S${i}`, to: `S${i + 1}` }));
    for (const [record, history, size] of [
      [machine({ config: states(MAX_SVG_STATES + 1), state: 'S0' }), [], { states: MAX_SVG_STATES + 1, edges: 0 }],
      // 99 catches and 52 steps of the history: one edge too many.
      [everyCaught(MAX_SVG_STATES), chain(52), { states: MAX_SVG_STATES, edges: MAX_SVG_EDGES + 1 }],
    ] as const) {
      const error = await diagramSvg(record, [...history]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(PayloadTooLargeError);
      expect((error as PayloadTooLargeError).details).to.deep.equal({
        ...size,
        maxStates: MAX_SVG_STATES,
        maxEdges: MAX_SVG_EDGES,
      });
      expect((error as Error).message).to.equal(
        `the diagram has ${size.states} states and ${size.edges} edges, too many to lay out as SVG (at most ${MAX_SVG_STATES} and ${MAX_SVG_EDGES}); its Mermaid text is at ?format=mermaid`,
      );
    }
  });

  it('marks nothing when the current state is not in config', () => {
    const marks = diagramMarks(machine({ state: 'MARS', status: 'RUNNING' }), [
      { seq: 0, at, version: 0, outcome: 'created', to: 'MARS' },
    ]);
    expect(marks.current).to.equal(undefined);
    expect([...marks.visited]).to.deep.equal([]);
    const svg = decorateSvg('<svg><style></style><g class="node" data-id="s0" data-label="START"></svg>', marks);
    expect(svg).to.include('<g class="node unvisited" data-id="s0"');
    expect(svg).to.include('fill: #fde68a');
  });

  it('escapes all five XML specials', () => {
    expect(escapeXml(`<>&"'x`)).to.equal('&#60;&#62;&#38;&#34;&#39;x');
  });

  it('is served as UTF-8 SVG, each status with its fill and stroke', () => {
    expect(SVG_CONTENT_TYPE).to.equal('image/svg+xml; charset=utf-8');
    expect(STATUS_COLOURS).to.deep.equal({
      RUNNING: { fill: '#fde68a', stroke: '#b45309' },
      PARKED: { fill: '#bfdbfe', stroke: '#1d4ed8' },
      SUCCEEDED: { fill: '#bbf7d0', stroke: '#15803d' },
      FAILED: { fill: '#fecaca', stroke: '#b91c1c' },
    });
  });

  it('draws on white in the page font, styles the edges by label, and marks states past the tenth', async () => {
    const config = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`S${i}`, 'f']));
    const svg = await diagramSvg(machine({ state: 'S11', status: 'RUNNING', config }), []);
    expect(svg).to.include('--bg:#ffffff;--fg:#27272a');
    expect(svg).to.include("font-family: 'system-ui'");
    expect(svg).to.include('polyline.edge[data-label^="retry"] { stroke: #b45309; stroke-dasharray: 5 3; }');
    expect(svg).to.include('g.node.unvisited > rect { stroke-dasharray: 4 3; }');
    expect(svg).to.include('<g class="node unvisited" data-id="s10"');
    expect(svg).to.include('<g class="node visited current running" data-id="s11"');
  });

  it("removes only the renderer's @import lines, the last one too, and nothing else", () => {
    const marks = diagramMarks(machine({ status: 'RUNNING' }), []);
    const svg = decorateSvg(
      "<svg x=\"1\"><style>\n  @import url('https://fonts.example/a.css');\n</style><text>see @import below</text>\n  @import url('b')",
      marks,
    );
    expect(svg).not.to.include('url(');
    expect(svg).to.include('<text>see @import below</text>');
    expect(svg).not.to.include('Stryker');
    expect(svg.endsWith('</text>\n')).to.equal(true);
  });
});
