import { expect } from 'chai';
import { api, exampleWorkflow, waitUntilFinished } from '../helpers/api';
import { fsm } from '../helpers/fsm';
import { currentStack } from '../helpers/stack';

/** Checks an SVG is one well-formed-looking document naming every state, `current` marked. */
function expectDiagram(svg: string, states: string[], current: string, status: string) {
  expect(svg.trimStart()).to.match(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  expect(svg.trimEnd()).to.match(/<\/svg>$/);
  expect(svg.match(/<svg /g)).to.have.length(1);
  expect(svg).not.to.include('@import');
  for (const state of states) expect(svg).to.include(`data-label="${state}"`);
  expect(svg).to.include(`data-state="${current}" data-status="${status}"`);
  const marked = [...svg.matchAll(/<g class="node [^"]*\bcurrent\b[^"]*" data-id="s\d+" data-label="([^"]*)"/g)];
  expect(marked.map((m) => m[1])).to.deep.equal([current]);
}

describe('diagrams as SVG', function () {
  this.timeout(60_000);
  const states = Object.keys(exampleWorkflow().config);
  let id: string;

  before(async () => {
    id = (await api('POST', '/machines', exampleWorkflow({ branch: 'a' }))).body.id;
    await waitUntilFinished(id);
  });

  it('GET /machines/{id}/diagram answers SVG to ?format=svg and to Accept: image/svg+xml', async () => {
    const byQuery = await api('GET', `/machines/${id}/diagram?format=svg`);
    expect(byQuery.status).to.equal(200);
    expect(byQuery.contentType).to.match(/^image\/svg\+xml/);
    expectDiagram(byQuery.text, states, 'FINALIZE', 'SUCCEEDED');
    expect(byQuery.text).to.match(/<g class="node unvisited" data-id="s3" data-label="TASK-2b"/);

    const byAccept = await fetch(`${currentStack().apiUrl}/machines/${id}/diagram`, {
      headers: { accept: 'image/svg+xml' },
    });
    expect(byAccept.headers.get('content-type')).to.match(/^image\/svg\+xml/);
    expectDiagram(await byAccept.text(), states, 'FINALIZE', 'SUCCEEDED');

    const text = await api('GET', `/machines/${id}/diagram`);
    expect(text.contentType).to.match(/^text\/plain/);
    expect((await api('GET', `/machines/${id}/diagram?format=png`)).status).to.equal(400);
    expect((await api('GET', '/machines/nobody/diagram?format=svg')).status).to.equal(404);
  });

  it('fsm diagram <id> --svg prints the same SVG', async () => {
    const run = await fsm('diagram', id, '--svg');
    expect(run.code, run.stderr).to.equal(0);
    expectDiagram(run.stdout, states, 'FINALIZE', 'SUCCEEDED');
    const json = await fsm('diagram', id, '--svg', '--json');
    expectDiagram(JSON.parse(json.stdout).svg, states, 'FINALIZE', 'SUCCEEDED');
  });
});
