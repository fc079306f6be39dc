import { h } from './dom';

/** A collapsible JSON view (nested <details>); `open` holds the paths of open nodes and follows toggles. */
export function jsonView(value: unknown, path: string, open: Set<string>): HTMLElement {
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
