/** One machine, live: its facts, actions, diagram, history page by page, object and definition. */
import type { MachineView } from '../../domain/machine';
import { isFinished } from '../../domain/status';
import type { MachinePageAnswer } from '../answers';
import { ActionsPanel } from './actions';
import { call, retryLater } from './calls';
import { badge, type Child, h, replace, time } from './dom';
import { ago, sinceStart } from './format';
import { jsonView } from './jsonView';
import { liveOk, startPolling, stopPolling } from './live';
import { say, showFlash } from './navigation';

/** The elements of a machine's page that the polls redraw. */
interface Parts {
  facts: HTMLElement;
  statusBadge: HTMLElement;
  errorBox: HTMLElement;
  flashBox: HTMLElement;
  actions: HTMLElement;
  diagram: HTMLImageElement;
  diagramText: HTMLElement;
  timeline: HTMLElement;
  historyPager: HTMLElement;
  historyInfo: HTMLElement;
  objectView: HTMLElement;
  definitionView: HTMLElement;
}

/** What the page keeps between polls, so that it redraws only what changed. */
interface Seen {
  /** undefined: follow the last page. */
  historyPage: number | undefined;
  diagramKey: string;
  objectKey: string;
  /** The paths of the object's open nodes. */
  open: Set<string>;
}

export function machineView(main: HTMLElement, id: string): void {
  document.title = `${id} · State machines console`;
  const parts = newParts();
  replace(main, ...layout(id, parts));
  showFlash(parts.flashBox);
  const seen: Seen = { historyPage: undefined, diagramKey: '', objectKey: '', open: new Set(['$']) };
  const actions = new ActionsPanel(parts.actions, {
    say: (text, kind) => say(parts.flashBox, text, kind),
    gone: (text) => gone(parts, text),
    reload: () => startPolling(refresh),
  });
  const showHistoryPage = (to: number, pageCount: number) => {
    seen.historyPage = to === pageCount ? undefined : to;
    void refresh();
  };

  const refresh = async () => {
    const query = seen.historyPage === undefined ? '' : `?historyPage=${seen.historyPage}`;
    const answer = await call<MachinePageAnswer>('GET', `/api/machines/${encodeURIComponent(id)}${query}`);
    if (answer.status === 404) {
      gone(parts, `There is no machine ${id}: it was deleted, has expired, or never existed.`);
      return undefined;
    }
    if (answer.status !== 200) return retryLater(answer);
    const page = answer.body as MachinePageAnswer;
    const m = page.machine;
    drawFacts(parts, m, Date.parse(page.now));
    actions.draw(m);
    drawHistory(parts, page, showHistoryPage);
    drawDiagram(parts, seen, m, page.history.total);
    drawData(parts, seen, m);
    liveOk();
    return isFinished(m.status) && !m.removing ? 5000 : 1000;
  };
  startPolling(refresh);
}

function newParts(): Parts {
  return {
    facts: h('dl', { class: 'facts' }),
    statusBadge: h('span', { id: 'machine-status' }),
    errorBox: h('div', { id: 'machine-error' }),
    flashBox: h('div', { id: 'flash', role: 'status' }),
    actions: h('div', { class: 'actions', id: 'actions' }),
    diagram: h('img', { id: 'diagram', alt: 'State diagram (loading)', decoding: 'async' }),
    diagramText: h('pre', { id: 'diagram-text', hidden: true }),
    timeline: h('tbody', { id: 'timeline' }),
    historyPager: h('nav', { class: 'pager', 'aria-label': 'Pages of history' }),
    historyInfo: h('p', { class: 'hint', id: 'history-info' }),
    objectView: h('div', { class: 'json', id: 'object' }),
    definitionView: h('div', { class: 'json', id: 'definition' }),
  };
}

function layout(id: string, parts: Parts): Node[] {
  const section = (heading: string, label: string, ...children: Child[]) =>
    h('section', { 'aria-labelledby': heading }, h('h2', { id: heading }, label), ...children);
  return [
    h('p', {}, h('a', { href: '/' }, '← All machines')),
    h('div', { class: 'titlebar' }, h('h1', {}, 'Machine ', h('code', { class: 'mono' }, id)), parts.statusBadge),
    parts.flashBox,
    parts.errorBox,
    parts.facts,
    section('h-actions', 'Actions', parts.actions),
    h('div', { class: 'columns' }, diagramSection(parts), historySection(parts)),
    section('h-object', 'Object', parts.objectView),
    section('h-definition', 'Definition', parts.definitionView),
  ];
}

function diagramSection({ diagram, diagramText }: Parts): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'h-diagram', class: 'diagram' },
    h('h2', { id: 'h-diagram' }, 'Diagram'),
    h('figure', {}, diagram, diagramText),
    h(
      'p',
      { class: 'legend' },
      h('span', { class: 'key k-current' }, 'current state'),
      h('span', { class: 'key k-visited' }, 'visited'),
      h('span', { class: 'key k-unvisited' }, 'never entered'),
      h('span', { class: 'key k-retry' }, 'retry'),
      h('span', { class: 'key k-parks' }, 'parks / resumed'),
      h('span', { class: 'key k-failed' }, 'failed'),
    ),
  );
}

function historySection({ historyInfo, timeline, historyPager }: Parts): HTMLElement {
  return h(
    'section',
    { 'aria-labelledby': 'h-history', class: 'history' },
    h('h2', { id: 'h-history' }, 'History'),
    historyInfo,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'timeline' },
        h('caption', { class: 'sr-only' }, 'Events, oldest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col', class: 'num' }, '#'),
            h('th', { scope: 'col' }, 'Outcome'),
            h('th', { scope: 'col' }, 'From → to'),
            h('th', { scope: 'col' }, 'Delay'),
            h('th', { scope: 'col' }, 'Error'),
            h('th', { scope: 'col' }, 'By'),
            h('th', { scope: 'col' }, 'Since start'),
          ),
        ),
        timeline,
      ),
    ),
    historyPager,
  );
}

/** The machine is no more (404): the page says so and stops polling. */
function gone({ statusBadge, actions }: Parts, text: string): void {
  stopPolling();
  statusBadge.replaceChildren(badge('DELETED'));
  replace(actions, h('p', {}, text, ' ', h('a', { href: '/' }, 'Back to all machines')));
  liveOk();
}

function drawFacts({ facts, statusBadge, errorBox }: Parts, m: MachineView, now: number): void {
  const rows: [string, Child][] = [
    ['State', h('code', { class: 'mono', id: 'machine-state' }, m.state)],
    ['Name', m.name],
    ['Version', `${m.version} (attempt ${m.attempt})`],
    ['Created', h('span', {}, time(m.createdAt), ` · ${ago(m.createdAt, now)}`)],
    ['Updated', h('span', {}, time(m.updatedAt), ` · ${ago(m.updatedAt, now)}`)],
    ['Finished', m.finishedAt ? time(m.finishedAt) : null],
    ['Next step', m.wakeAt ? h('span', {}, time(m.wakeAt), ` · ${ago(m.wakeAt, now)}`) : null],
    // A park's deadlines (docs/design.md "Deadlines"), counting down at each poll.
    ['Times out', m.wait?.timeoutAt ? h('span', {}, time(m.wait.timeoutAt), ` · ${ago(m.wait.timeoutAt, now)}`) : null],
    [
      'Heartbeat due',
      m.wait?.heartbeatAt ? h('span', {}, time(m.wait.heartbeatAt), ` · ${ago(m.wait.heartbeatAt, now)}`) : null,
    ],
    ['Handler running', m.handlerRunning ? 'yes' : null],
    ['Being deleted', m.removing ? 'yes: when the running step ends' : null],
  ];
  replace(
    facts,
    ...rows
      .filter(([, value]) => value !== null && value !== undefined && value !== '')
      .flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
  statusBadge.replaceChildren(badge(m.status));
  statusBadge.dataset.machineStatus = m.status;
  replace(
    errorBox,
    m.error
      ? h(
          'div',
          { class: 'error-box', role: 'note' },
          h('strong', {}, `Failed in ${m.error.state}: `),
          m.error.message,
          ' ',
          time(m.error.at),
        )
      : null,
  );
}

function drawHistory(
  { historyInfo, timeline, historyPager }: Parts,
  page: MachinePageAnswer,
  show: (to: number, pageCount: number) => void,
): void {
  const { events, total, pageCount } = page.history;
  const start = page.machine.createdAt;
  historyInfo.textContent = `${total} event${total === 1 ? '' : 's'}, oldest first`;
  replace(
    timeline,
    ...events.map((e) =>
      h(
        'tr',
        { class: `o-${e.outcome}`, 'data-outcome': e.outcome },
        h('td', { class: 'num' }, e.seq),
        h('td', {}, h('span', { class: `outcome o-${e.outcome}` }, e.outcome), e.attempt ? ` #${e.attempt}` : ''),
        h('td', { class: 'mono' }, [e.from, e.to].filter((s) => s !== undefined).join(' → ')),
        h('td', {}, e.delay === undefined ? '' : e.delay < 0 ? 'parked' : `${e.delay} s`),
        h('td', { class: 'err' }, e.error ?? ''),
        h('td', { class: 'mono by', title: e.by ?? '' }, e.by ?? ''),
        h('td', { title: e.at, class: 'mono' }, sinceStart(e.at, start)),
      ),
    ),
  );
  const current = page.history.page;
  const go = (to: number) => () => show(to, pageCount);
  replace(
    historyPager,
    h('button', { type: 'button', disabled: current <= 1, onclick: go(1) }, '« First'),
    h('button', { type: 'button', disabled: current <= 1, onclick: go(current - 1) }, '‹ Earlier'),
    h('span', { class: 'page-info' }, `Page ${current} of ${pageCount}`),
    h('button', { type: 'button', disabled: current >= pageCount, onclick: go(current + 1) }, 'Later ›'),
    h('button', { type: 'button', disabled: current >= pageCount, onclick: go(pageCount) }, 'Last »'),
  );
}

/** Loads a new diagram when the machine moved (or its history grew); the old one stays until the new one is ready. */
function drawDiagram({ diagram, diagramText }: Parts, seen: Seen, m: MachineView, events: number): void {
  const key = `${m.version}.${m.attempt}.${m.status}.${m.state}.${events}`;
  if (key === seen.diagramKey) return;
  seen.diagramKey = key;
  const url = `/api/machines/${encodeURIComponent(m.id)}/diagram.svg?v=${encodeURIComponent(key)}`;
  const next = new Image();
  next.onload = () => {
    diagram.src = url;
    diagram.alt = `State diagram: current state ${m.state}, ${m.status}; ${events} events`;
    diagram.dataset.state = m.state;
    diagram.dataset.status = m.status;
    diagram.hidden = false;
    diagramText.hidden = true;
  };
  next.onerror = async () => {
    // An API without SVG diagrams: show its Mermaid text instead.
    const answer = await fetch(`/api/machines/${encodeURIComponent(m.id)}/diagram.txt`, { cache: 'no-store' });
    diagramText.textContent = answer.ok ? await answer.text() : 'The diagram could not be loaded.';
    diagramText.hidden = false;
    diagram.hidden = true;
  };
  next.src = url;
}

/** The object and the definition, redrawn only when the machine changed (so open nodes stay open). */
function drawData({ objectView, definitionView }: Parts, seen: Seen, m: MachineView): void {
  const key = `${m.version}.${m.attempt}.${m.updatedAt}`;
  if (key === seen.objectKey) return;
  seen.objectKey = key;
  replace(objectView, jsonView(m.object, '$', seen.open));
  replace(definitionView, jsonView({ config: m.config, options: m.options }, '$', new Set()));
}
