/** Which view the URL shows: `/machines/{id}` one machine, anything else the list. Same-origin links navigate without a reload. */
import { byId } from './dom';
import { listView } from './listView';
import { stopPolling } from './live';
import { machineView } from './machineView';
import { navigate } from './navigation';

/** Draws the page of the current URL; after a navigation, focus moves to its content (as a page load would reset it). */
export function render(moveFocus = true): void {
  stopPolling();
  const main = byId('main');
  const match = location.pathname.match(/^\/machines\/([^/]+)$/);
  if (match?.[1]) machineView(main, decodeURIComponent(match[1]));
  else listView(main);
  if (moveFocus) main.focus({ preventScroll: true });
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
