/**
 * The console's page: the machines list and one machine, live. Plain DOM, no framework (the
 * whole script is a few KB). Every call goes to the console server (same origin; the token is
 * an HttpOnly cookie this script never sees), which calls the API. The page polls while it is
 * visible: once a second for a machine that can still change, every two seconds for the list.
 * Text from the API is only ever set as text (textContent), never parsed as HTML.
 */

// ---- types (the API's shapes, as far as the page uses them) ----

type Status = 'RUNNING' | 'PARKED' | 'SUCCEEDED' | 'FAILED';
const STATUSES: Status[] = ['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'];

interface Summary {
  id: string;
  name?: string;
  status: Status;
  state: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

interface Overview {
  counts: Record<Status, number>;
  capped: Record<Status, boolean>;
  total: number;
  page: number;
  pageCount: number;
  pageSize: number;
  items: Summary[];
  now: string;
}

interface HistoryEvent {
  seq: number;
  outcome: string;
  at: string;
  version: number;
  from?: string;
  to?: string;
  delay?: number;
  attempt?: number;
  error?: string;
  /** Who asked for an API-made event (the IAM caller's ARN or the JWT's subject). */
  by?: string;
}

interface Machine extends Summary {
  object: unknown;
  config: Record<string, string>;
  options?: unknown;
  attempt: number;
  removing?: boolean;
  wakeAt?: string;
  error?: { message: string; state: string; at: string };
  finishedAt?: string;
  handlerRunning?: boolean;
}

interface MachinePage {
  machine: Machine;
  history: { total: number; page: number; pageCount: number; pageSize: number; events: HistoryEvent[] };
  now: string;
}

interface FieldIssue {
  path: string;
  message: string;
}

interface Answer<T = unknown> {
  status: number;
  body: T & { error?: string; code?: string; details?: unknown };
}

// ---- DOM helpers ----

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((event: Event) => void)>;

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else if (value !== false && value !== undefined) element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no #${id}`);
  return element as T;
}

const badge = (status: string) => h('span', { class: `badge s-${status.toLowerCase()}` }, status);

function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  if (seconds < 0) return `in ${duration(-seconds)}`;
  return seconds < 2 ? 'just now' : `${duration(seconds)} ago`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return `${Math.floor(seconds / 86400)} d`;
}

/** Time since the start, as +1.2s / +3m04s / +2h05m. */
function sinceStart(at: string, start: string): string {
  const ms = Date.parse(at) - Date.parse(start);
  if (ms < 60_000) return `+${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `+${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `+${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const time = (iso: string | undefined) =>
  iso ? h('time', { datetime: iso, title: iso }, new Date(iso).toLocaleString()) : '';

// ---- calls to the console server ----

async function call<T = unknown>(method: string, path: string, body?: string): Promise<Answer<T>> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await response.text();
  let parsed: unknown = {};
  if (text && response.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
  else if (text) parsed = { error: text.trim() };
  if (response.status === 403) setLive('error', 'Not authorised: open the URL printed by `fsm console` again');
  return { status: response.status, body: parsed as Answer<T>['body'] };
}

function issuesOf(answer: Answer): FieldIssue[] {
  const details = answer.body.details;
  if (Array.isArray(details) && details.length > 0) return details as FieldIssue[];
  return [{ path: answer.body.code ?? `HTTP ${answer.status}`, message: answer.body.error ?? `HTTP ${answer.status}` }];
}

// ---- live status line and polling ----

function setLive(kind: 'ok' | 'error' | 'paused', text: string): void {
  const live = byId('live');
  live.className = `live ${kind}`;
  live.textContent = text;
}

let poll: { timer: number | undefined; run: () => Promise<number | undefined> } | undefined;

/** Runs `run` now and then again after the delay it returns (ms), while the page is visible. */
function startPolling(run: () => Promise<number | undefined>): void {
  stopPolling();
  const current = { timer: undefined as number | undefined, run };
  poll = current;
  const tick = async () => {
    if (poll !== current) return;
    if (document.hidden) {
      setLive('paused', 'paused while the tab is hidden');
      return;
    }
    let next: number | undefined = 5000;
    try {
      next = await run();
    } catch (error) {
      setLive('error', `console server unreachable (${(error as Error).message}); retrying`);
    }
    if (poll === current && next !== undefined) current.timer = window.setTimeout(tick, next);
  };
  void tick();
}

function stopPolling(): void {
  if (poll?.timer !== undefined) window.clearTimeout(poll.timer);
  poll = undefined;
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && poll) startPolling(poll.run);
});

function liveOk(): void {
  setLive('ok', `live · updated ${new Date().toLocaleTimeString()}`);
}

// ---- routing ----

let flash: { text: string; kind: 'ok' | 'error' } | undefined;

function navigate(path: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest('a');
  if (!link || link.target || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(`${url.pathname}${url.search}`);
});
window.addEventListener('popstate', () => render());

/** Draws the page of the current URL; after a navigation, focus moves to its content (as a page load would reset it). */
function render(moveFocus = true): void {
  stopPolling();
  const main = byId('main');
  const match = location.pathname.match(/^\/machines\/([^/]+)$/);
  if (match?.[1]) machineView(main, decodeURIComponent(match[1]));
  else listView(main);
  if (moveFocus) main.focus({ preventScroll: true });
}

function showFlash(container: HTMLElement): void {
  if (!flash) return;
  replace(container, flash.text);
  container.className = `flash ${flash.kind}`;
  flash = undefined;
}

// ---- the machines list ----

function listView(main: HTMLElement): void {
  document.title = 'Machines · State machines console';
  const params = new URLSearchParams(location.search);
  let status = params.get('status') ?? 'ALL';
  let q = params.get('q') ?? '';
  let page = Number(params.get('page') ?? '1') || 1;

  const filters = h('div', { class: 'filters', role: 'group', 'aria-label': 'Filter by status' });
  const search = h('input', {
    id: 'q',
    type: 'search',
    value: q,
    autocomplete: 'off',
    placeholder: 'id or name',
    'aria-describedby': 'q-hint',
  });
  const rows = h('tbody', { id: 'rows' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of machines' });
  const flashBox = h('div', { id: 'flash', role: 'status' });
  const addPanel = addForm();
  const addToggle = h(
    'button',
    {
      type: 'button',
      id: 'add-toggle',
      'aria-expanded': 'false',
      'aria-controls': 'add-panel',
      onclick: () => {
        const open = addPanel.hidden;
        addPanel.hidden = !open;
        addToggle.setAttribute('aria-expanded', String(open));
        if (open) byId('def').focus();
      },
    },
    'Add a machine',
  );

  replace(
    main,
    h('div', { class: 'titlebar' }, h('h1', {}, 'Machines'), addToggle),
    flashBox,
    addPanel,
    filters,
    h(
      'div',
      { class: 'search' },
      h('label', { for: 'q' }, 'Search'),
      search,
      h('span', { id: 'q-hint', class: 'hint' }, 'by id or name; an exact id is looked up even beyond the lists'),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'machines' },
        h('caption', { class: 'sr-only' }, 'Machines, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Machine'),
            h('th', { scope: 'col' }, 'Status'),
            h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col', class: 'num wide' }, 'Version'),
            h('th', { scope: 'col' }, 'Created'),
            h('th', { scope: 'col', class: 'wide' }, 'Updated'),
          ),
        ),
        rows,
      ),
    ),
    pager,
  );
  showFlash(flashBox);

  const sync = () => {
    const query = new URLSearchParams();
    if (status !== 'ALL') query.set('status', status);
    if (q) query.set('q', q);
    if (page > 1) query.set('page', String(page));
    history.replaceState(null, '', `/${query.size ? `?${query}` : ''}`);
    startPolling(refresh);
  };
  let typing: number | undefined;
  search.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(() => {
      q = search.value.trim();
      page = 1;
      sync();
    }, 250);
  });

  let last: Overview | undefined;
  const drawFilters = (data: Overview) => {
    const all = STATUSES.reduce((sum, s) => sum + data.counts[s], 0);
    const capped = STATUSES.some((s) => data.capped[s]);
    const button = (value: string, label: string, count: number, more: boolean) =>
      h(
        'button',
        {
          type: 'button',
          class: `filter f-${value.toLowerCase()}`,
          'aria-pressed': String(status === value),
          'data-status': value,
          onclick: () => {
            status = value;
            page = 1;
            for (const b of filters.querySelectorAll('button')) {
              b.setAttribute('aria-pressed', String(b.dataset.status === status));
            }
            sync();
          },
        },
        h('span', {}, label),
        ' ',
        h('span', { class: 'count', 'data-count': value }, `${count}${more ? '+' : ''}`),
      );
    replace(
      filters,
      button('ALL', 'All', all, capped),
      ...STATUSES.map((s) => button(s, s.charAt(0) + s.slice(1).toLowerCase(), data.counts[s], data.capped[s])),
    );
  };

  const drawRows = (data: Overview) => {
    const now = Date.parse(data.now);
    if (data.items.length === 0) {
      replace(
        rows,
        h('tr', {}, h('td', { colspan: 6, class: 'empty' }, q ? `No machine matches “${q}”.` : 'No machines.')),
      );
      return;
    }
    replace(
      rows,
      ...data.items.map((m) =>
        h(
          'tr',
          { 'data-id': m.id, 'data-status': m.status },
          h(
            'td',
            {},
            h('a', { href: `/machines/${encodeURIComponent(m.id)}`, class: 'mono', title: m.id }, m.id),
            m.name && m.name !== m.id ? h('div', { class: 'sub' }, m.name) : null,
          ),
          h('td', {}, badge(m.status)),
          h('td', { class: 'mono' }, m.state),
          h('td', { class: 'num wide' }, m.version),
          h('td', { title: m.createdAt }, ago(m.createdAt, now)),
          h('td', { class: 'wide', title: m.updatedAt }, ago(m.updatedAt, now)),
        ),
      ),
    );
  };

  const drawPager = (data: Overview) => {
    const go = (to: number) => () => {
      page = to;
      sync();
    };
    replace(
      pager,
      h('button', { type: 'button', disabled: data.page <= 1, onclick: go(data.page - 1) }, '← Newer'),
      h(
        'span',
        { class: 'page-info' },
        `Page ${data.page} of ${data.pageCount} · ${data.total} machine${data.total === 1 ? '' : 's'}`,
      ),
      h('button', { type: 'button', disabled: data.page >= data.pageCount, onclick: go(data.page + 1) }, 'Older →'),
    );
  };

  const refresh = async () => {
    const query = new URLSearchParams({ status, q, page: String(page) });
    const answer = await call<Overview>('GET', `/api/overview?${query}`);
    if (answer.status !== 200) {
      setLive('error', `${answer.body.error ?? `HTTP ${answer.status}`}; retrying`);
      return 3000;
    }
    const data = answer.body as Overview;
    // Repaint only what changed: focus and the add form stay as they are.
    if (JSON.stringify(data.counts) !== JSON.stringify(last?.counts) || !last || last.page !== data.page) {
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.status : undefined;
      drawFilters(data);
      if (focused) filters.querySelector<HTMLElement>(`[data-status="${focused}"]`)?.focus();
    } else {
      for (const b of filters.querySelectorAll('button')) {
        b.setAttribute('aria-pressed', String(b.dataset.status === status));
      }
    }
    drawRows(data);
    drawPager(data);
    last = data;
    page = data.page;
    liveOk();
    return 2000;
  };
  sync();
}

const EXAMPLE = {
  object: { orderId: 42, delay: 1 },
  config: { START: 'prepare', 'TASK-1': 'task-1', 'TASK-2a': 'task-2a', 'TASK-2b': 'task-2b', FINALIZE: 'finalize' },
  state: 'START',
};

function addForm(): HTMLElement {
  const errors = h('ul', { id: 'def-errors', class: 'field-errors', 'aria-live': 'assertive' });
  const textarea = h('textarea', {
    id: 'def',
    name: 'definition',
    rows: 12,
    spellcheck: 'false',
    'aria-describedby': 'def-hint def-errors',
  });
  const file = h('input', { id: 'def-file', type: 'file', accept: '.json,application/json' });
  file.addEventListener('change', async () => {
    const chosen = file.files?.[0];
    if (chosen) textarea.value = await chosen.text();
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Add machine');
  const form = h(
    'form',
    { id: 'add-form', novalidate: true },
    h('label', { for: 'def' }, 'Definition (JSON)'),
    h(
      'p',
      { id: 'def-hint', class: 'hint' },
      'Paste a definition — { "state", "config", "object"?, "name"?, "options"? } — or upload a file.',
    ),
    h('div', { class: 'field-row' }, textarea, errors),
    h(
      'div',
      { class: 'form-row' },
      h('label', { for: 'def-file' }, 'Upload a .json file'),
      file,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            textarea.value = JSON.stringify(EXAMPLE, null, 2);
            textarea.focus();
          },
        },
        'Insert the example',
      ),
      submit,
    ),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    replace(errors);
    textarea.removeAttribute('aria-invalid');
    try {
      const answer = await call<Machine>('POST', '/api/machines', textarea.value);
      if (answer.status === 200 || answer.status === 201) {
        const machine = answer.body as Machine;
        flash = {
          kind: 'ok',
          text:
            answer.status === 201
              ? `Added ${machine.id}.`
              : `A machine named ${machine.id} with this definition already exists (200): here it is.`,
        };
        navigate(`/machines/${encodeURIComponent(machine.id)}`);
        return;
      }
      textarea.setAttribute('aria-invalid', 'true');
      replace(
        errors,
        h('li', { class: 'summary' }, `${answer.status}: ${answer.body.error ?? 'refused'}`),
        ...(answer.body.details && Array.isArray(answer.body.details) ? issuesOf(answer) : []).map((issue) =>
          h('li', { 'data-path': issue.path }, h('code', {}, issue.path), ' ', issue.message),
        ),
      );
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { id: 'add-panel', class: 'panel', hidden: true, 'aria-label': 'Add a machine' }, form);
}

// ---- one machine ----

function machineView(main: HTMLElement, id: string): void {
  document.title = `${id} · State machines console`;
  const facts = h('dl', { class: 'facts' });
  const statusBadge = h('span', { id: 'machine-status' });
  const errorBox = h('div', { id: 'machine-error' });
  const flashBox = h('div', { id: 'flash', role: 'status' });
  const actions = h('div', { class: 'actions', id: 'actions' });
  const diagram = h('img', { id: 'diagram', alt: 'State diagram (loading)', decoding: 'async' });
  const diagramText = h('pre', { id: 'diagram-text', hidden: true });
  const timeline = h('tbody', { id: 'timeline' });
  const historyPager = h('nav', { class: 'pager', 'aria-label': 'Pages of history' });
  const historyInfo = h('p', { class: 'hint', id: 'history-info' });
  const objectView = h('div', { class: 'json', id: 'object' });
  const definitionView = h('div', { class: 'json', id: 'definition' });
  const open = new Set<string>(['$']);

  replace(
    main,
    h('p', {}, h('a', { href: '/' }, '← All machines')),
    h('div', { class: 'titlebar' }, h('h1', {}, 'Machine ', h('code', { class: 'mono' }, id)), statusBadge),
    flashBox,
    errorBox,
    facts,
    h('section', { 'aria-labelledby': 'h-actions' }, h('h2', { id: 'h-actions' }, 'Actions'), actions),
    h(
      'div',
      { class: 'columns' },
      h(
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
      ),
      h(
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
      ),
    ),
    h('section', { 'aria-labelledby': 'h-object' }, h('h2', { id: 'h-object' }, 'Object'), objectView),
    h('section', { 'aria-labelledby': 'h-definition' }, h('h2', { id: 'h-definition' }, 'Definition'), definitionView),
  );
  showFlash(flashBox);

  let historyPage: number | undefined; // undefined: follow the last page
  let diagramKey = '';
  let objectKey = '';
  let actionsKey = '';
  let deleting = false;

  const say = (text: string, kind: 'ok' | 'error' = 'ok') => {
    flashBox.className = `flash ${kind}`;
    replace(flashBox, text);
  };

  const gone = (text: string) => {
    stopPolling();
    statusBadge.replaceChildren(badge('DELETED'));
    replace(actions, h('p', {}, text, ' ', h('a', { href: '/' }, 'Back to all machines')));
    liveOk();
  };

  const drawFacts = (m: Machine, now: number) => {
    const rows: [string, Child][] = [
      ['State', h('code', { class: 'mono', id: 'machine-state' }, m.state)],
      ['Name', m.name],
      ['Version', `${m.version} (attempt ${m.attempt})`],
      ['Created', h('span', {}, time(m.createdAt), ` · ${ago(m.createdAt, now)}`)],
      ['Updated', h('span', {}, time(m.updatedAt), ` · ${ago(m.updatedAt, now)}`)],
      ['Finished', m.finishedAt ? time(m.finishedAt) : null],
      ['Next step', m.wakeAt ? h('span', {}, time(m.wakeAt), ` · ${ago(m.wakeAt, now)}`) : null],
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
  };

  const drawActions = (m: Machine) => {
    const key = `${m.status}|${m.removing}|${Object.keys(m.config).join(',')}`;
    if (key === actionsKey || deleting) return;
    actionsKey = key;
    replace(
      actions,
      deleteControl(m),
      m.status === 'PARKED' && !m.removing ? resumeForm(m) : null,
      m.status === 'FAILED' ? redriveControl(m) : null,
    );
  };

  const deleteControl = (m: Machine) => {
    const box = h('div', { class: 'action' });
    const ask = h(
      'button',
      {
        type: 'button',
        class: 'danger',
        id: 'delete',
        onclick: () => {
          deleting = true;
          const yes = h(
            'button',
            {
              type: 'button',
              class: 'danger',
              id: 'delete-confirm',
              onclick: async () => {
                yes.disabled = true;
                const answer = await call('DELETE', `/api/machines/${encodeURIComponent(m.id)}`);
                deleting = false;
                if (answer.status === 204) {
                  flash = {
                    kind: 'ok',
                    text: `Deleted ${m.id} (204): it was between steps, so it was removed at once.`,
                  };
                  navigate('/');
                } else if (answer.status === 202) {
                  say(
                    `Deletion requested (202): a handler is running ${m.state} right now; the machine is removed when that step ends.`,
                  );
                  actionsKey = '';
                } else if (answer.status === 404) {
                  gone('It was already deleted (404).');
                } else {
                  say(`Delete failed (${answer.status}): ${answer.body.error ?? ''}`, 'error');
                  actionsKey = '';
                }
              },
            },
            'Yes, delete it',
          );
          replace(
            box,
            h('span', { class: 'confirm', role: 'alert' }, `Delete ${m.id}? This cannot be undone. `),
            yes,
            h(
              'button',
              {
                type: 'button',
                onclick: () => {
                  deleting = false;
                  actionsKey = '';
                  replace(box, ask);
                  ask.focus();
                },
              },
              'Cancel',
            ),
          );
          yes.focus();
        },
      },
      'Delete…',
    );
    box.append(ask);
    return box;
  };

  const resumeForm = (m: Machine) => {
    const stateErrors = h('ul', { id: 'resume-state-errors', class: 'field-errors', 'aria-live': 'assertive' });
    const objectErrors = h('ul', { id: 'resume-object-errors', class: 'field-errors', 'aria-live': 'assertive' });
    const formErrors = h('ul', { class: 'field-errors', 'aria-live': 'assertive' });
    const select = h(
      'select',
      { id: 'resume-state', 'aria-describedby': 'resume-state-errors' },
      h('option', { value: '' }, `stay in ${m.state}`),
      ...Object.keys(m.config).map((s) => h('option', { value: s }, s)),
    );
    const object = h('textarea', {
      id: 'resume-object',
      rows: 4,
      spellcheck: 'false',
      placeholder: 'leave empty to keep the data',
      'aria-describedby': 'resume-object-errors',
    });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Resume');
    const form = h(
      'form',
      { class: 'action panel', id: 'resume-form', novalidate: true },
      h('strong', {}, 'This machine is parked. Resume it'),
      h('div', { class: 'field' }, h('label', { for: 'resume-state' }, 'in state'), select, stateErrors),
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'resume-object' }, 'with new data (JSON, optional)'),
        object,
        objectErrors,
      ),
      submit,
      formErrors,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      for (const list of [stateErrors, objectErrors, formErrors]) replace(list);
      const request: { state?: string; object?: unknown } = {};
      if (select.value) request.state = select.value;
      if (object.value.trim()) {
        try {
          request.object = JSON.parse(object.value);
        } catch (error) {
          object.setAttribute('aria-invalid', 'true');
          replace(objectErrors, h('li', {}, `not JSON: ${(error as Error).message}`));
          object.focus();
          return;
        }
      }
      submit.disabled = true;
      const answer = await call('POST', `/api/machines/${encodeURIComponent(m.id)}/resume`, JSON.stringify(request));
      submit.disabled = false;
      if (answer.status === 202 || answer.status === 200) {
        say('Resumed (202): it runs its next step now.');
        actionsKey = '';
        startPolling(refresh);
        return;
      }
      for (const issue of issuesOf(answer)) {
        const list = issue.path === 'state' ? stateErrors : issue.path.startsWith('object') ? objectErrors : formErrors;
        append(list, [h('li', {}, h('code', {}, issue.path), ' ', issue.message)]);
      }
      if (answer.status === 409) append(formErrors, [h('li', {}, 'It is not parked any more (409): see its status.')]);
    });
    return form;
  };

  const redriveControl = (m: Machine) => {
    const result = h('span', { class: 'hint', 'aria-live': 'polite' });
    const button = h(
      'button',
      {
        type: 'button',
        id: 'redrive',
        onclick: async () => {
          button.disabled = true;
          const answer = await call('POST', `/api/machines/${encodeURIComponent(m.id)}/redrive`, '{}');
          button.disabled = false;
          if (answer.status === 200 || answer.status === 202) {
            say(`Redriven (${answer.status}): ${m.error?.state ?? m.state} runs again.`);
            actionsKey = '';
            startPolling(refresh);
          } else if (answer.body.code === 'ROUTE_NOT_FOUND') {
            replace(result, 'This API has no redrive yet (404): deploy a version with POST /machines/{id}/redrive.');
          } else if (answer.status === 409) {
            replace(result, `Cannot redrive it now (409): ${answer.body.error ?? 'conflict'}`);
          } else {
            replace(result, `Redrive failed (${answer.status}): ${answer.body.error ?? ''}`);
          }
        },
      },
      'Redrive',
    );
    return h(
      'div',
      { class: 'action' },
      button,
      ' ',
      h('span', { class: 'hint' }, 'run the failed step again'),
      ' ',
      result,
    );
  };

  const drawHistory = (page: MachinePage) => {
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
    const go = (to: number) => () => {
      historyPage = to === pageCount ? undefined : to;
      void refresh();
    };
    replace(
      historyPager,
      h('button', { type: 'button', disabled: page.history.page <= 1, onclick: go(1) }, '« First'),
      h(
        'button',
        { type: 'button', disabled: page.history.page <= 1, onclick: go(page.history.page - 1) },
        '‹ Earlier',
      ),
      h('span', { class: 'page-info' }, `Page ${page.history.page} of ${pageCount}`),
      h(
        'button',
        { type: 'button', disabled: page.history.page >= pageCount, onclick: go(page.history.page + 1) },
        'Later ›',
      ),
      h('button', { type: 'button', disabled: page.history.page >= pageCount, onclick: go(pageCount) }, 'Last »'),
    );
  };

  const drawDiagram = (m: Machine, events: number) => {
    const key = `${m.version}.${m.attempt}.${m.status}.${m.state}.${events}`;
    if (key === diagramKey) return;
    diagramKey = key;
    const url = `/api/machines/${encodeURIComponent(m.id)}/diagram.svg?v=${encodeURIComponent(key)}`;
    // Load off-screen first so the old picture stays until the new one is ready.
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
  };

  const refresh = async () => {
    const query = historyPage === undefined ? '' : `?historyPage=${historyPage}`;
    const answer = await call<MachinePage>('GET', `/api/machines/${encodeURIComponent(id)}${query}`);
    if (answer.status === 404) {
      gone(`There is no machine ${id}: it was deleted, has expired, or never existed.`);
      return undefined;
    }
    if (answer.status !== 200) {
      setLive('error', `${answer.body.error ?? `HTTP ${answer.status}`}; retrying`);
      return 3000;
    }
    const page = answer.body as MachinePage;
    const m = page.machine;
    const now = Date.parse(page.now);
    drawFacts(m, now);
    drawActions(m);
    drawHistory(page);
    drawDiagram(m, page.history.total);
    const key = `${m.version}.${m.attempt}.${m.updatedAt}`;
    if (key !== objectKey) {
      objectKey = key;
      replace(objectView, jsonView(m.object, '$', open));
      replace(definitionView, jsonView({ config: m.config, options: m.options }, '$', new Set()));
    }
    liveOk();
    const settled = (m.status === 'SUCCEEDED' || m.status === 'FAILED') && !m.removing;
    return settled ? 5000 : 1000;
  };
  startPolling(refresh);
}

/** A collapsible JSON view (nested <details>); `open` holds the paths of open nodes and follows toggles. */
function jsonView(value: unknown, path: string, open: Set<string>): HTMLElement {
  if (value === null || typeof value !== 'object') {
    const kind = value === null ? 'null' : typeof value;
    return h('span', { class: `j-${kind}` }, JSON.stringify(value) ?? 'undefined');
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const isArray = Array.isArray(value);
  if (entries.length === 0) return h('span', { class: 'j-empty' }, isArray ? '[]' : '{}');
  const details = h(
    'details',
    { open: open.has(path) },
    h(
      'summary',
      {},
      isArray
        ? `[ ${entries.length} item${entries.length === 1 ? '' : 's'} ]`
        : `{ ${entries.length} key${entries.length === 1 ? '' : 's'} }`,
    ),
    h(
      'ul',
      {},
      ...entries.map(([key, child]) =>
        h(
          'li',
          {},
          h('span', { class: 'j-key' }, isArray ? `${key}:` : `${JSON.stringify(key)}:`),
          ' ',
          jsonView(child, `${path}.${key}`, open),
        ),
      ),
    ),
  );
  details.addEventListener('toggle', () => {
    if (details.open) open.add(path);
    else open.delete(path);
  });
  return details;
}

// ---- start ----

void call<{ endpoint: string }>('GET', '/api/info').then((answer) => {
  if (answer.status === 200) byId('endpoint').textContent = `API ${answer.body.endpoint}`;
});
render(false);
