/**
 * Moving to another page of the console without a reload, with a message to show there. The
 * router draws the page on `popstate`, so a view that navigates does not import the router (and
 * through it every other view).
 */
import { replace } from './dom';

export interface Flash {
  text: string;
  kind: 'ok' | 'error';
}

let flash: Flash | undefined;

export function navigate(path: string, message?: Flash): void {
  flash = message;
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** Shows `text` in a view's message box. */
export function say(box: HTMLElement, text: string, kind: Flash['kind'] = 'ok'): void {
  box.className = `flash ${kind}`;
  replace(box, text);
}

/** Shows the message the navigation to this page carried, once. */
export function showFlash(box: HTMLElement): void {
  if (!flash) return;
  say(box, flash.text, flash.kind);
  flash = undefined;
}
