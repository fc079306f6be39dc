/**
 * The console's page: the machines list and one machine, live. Plain DOM, no framework (the
 * whole script is a few KB). Every call goes to the console server (same origin; the token is
 * an HttpOnly cookie this script never sees), which calls the API. The page polls while it is
 * visible: once a second for a machine that can still change, every two seconds for the list.
 * Text from the API is only ever set as text (textContent), never parsed as HTML.
 *
 * This is the entry esbuild bundles (console/assets.ts): router.ts picks the view (listView.ts,
 * machineView.ts), live.ts polls, calls.ts talks to the console server, dom.ts builds elements.
 */
import { call } from './calls';
import { byId } from './dom';
import { render } from './router';

void call<{ endpoint: string }>('GET', '/api/info').then((answer) => {
  if (answer.status === 200) byId('endpoint').textContent = `API ${answer.body.endpoint}`;
});
render(false);
