/** The machines list: counts by status as filters, a search, a table of machines newest first, pages. */
import { STATUSES } from '../../domain/status';
import type { OverviewAnswer } from '../answers';
import { addForm } from './addForm';
import { call, retryLater } from './calls';
import { badge, byId, h, replace } from './dom';
import { ago } from './format';
import { liveOk, startPolling } from './live';
import { showFlash } from './navigation';

export function listView(main: HTMLElement): void {
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
  replace(main, ...layout({ filters, search, rows, pager, flashBox }));
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
  const choose = (value: string) => {
    status = value;
    page = 1;
    markPressed(filters, status);
    sync();
  };
  const go = (to: number) => {
    page = to;
    sync();
  };

  let last: OverviewAnswer | undefined;
  const refresh = async () => {
    const query = new URLSearchParams({ status, q, page: String(page) });
    const answer = await call<OverviewAnswer>('GET', `/api/overview?${query}`);
    if (answer.status !== 200) return retryLater(answer);
    const data = answer.body as OverviewAnswer;
    // Repaint only what changed: focus and the add form stay as they are.
    if (JSON.stringify(data.counts) !== JSON.stringify(last?.counts) || !last || last.page !== data.page) {
      const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.status : undefined;
      drawFilters(filters, data, status, choose);
      if (focused) filters.querySelector<HTMLElement>(`[data-status="${focused}"]`)?.focus();
    } else {
      markPressed(filters, status);
    }
    drawRows(rows, data, q);
    drawPager(pager, data, go);
    last = data;
    page = data.page;
    liveOk();
    return 2000;
  };
  sync();
}

interface ListParts {
  filters: HTMLElement;
  search: HTMLElement;
  rows: HTMLElement;
  pager: HTMLElement;
  flashBox: HTMLElement;
}

function layout({ filters, search, rows, pager, flashBox }: ListParts): Node[] {
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
  return [
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
  ];
}

function markPressed(filters: HTMLElement, status: string): void {
  for (const b of filters.querySelectorAll('button')) {
    b.setAttribute('aria-pressed', String(b.dataset.status === status));
  }
}

function drawFilters(
  filters: HTMLElement,
  data: OverviewAnswer,
  status: string,
  choose: (status: string) => void,
): void {
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
        onclick: () => choose(value),
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
}

function drawRows(rows: HTMLElement, data: OverviewAnswer, q: string): void {
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
}

function drawPager(pager: HTMLElement, data: OverviewAnswer, go: (page: number) => void): void {
  replace(
    pager,
    h('button', { type: 'button', disabled: data.page <= 1, onclick: () => go(data.page - 1) }, '← Newer'),
    h(
      'span',
      { class: 'page-info' },
      `Page ${data.page} of ${data.pageCount} · ${data.total} machine${data.total === 1 ? '' : 's'}`,
    ),
    h('button', { type: 'button', disabled: data.page >= data.pageCount, onclick: () => go(data.page + 1) }, 'Older →'),
  );
}
