/**
 * The live status line and the one poll of the page: the current view's refresh runs again
 * after the delay it returns, while the tab is visible (docs/console.md).
 */
import { byId } from './dom';

export function setLive(kind: 'ok' | 'error' | 'paused', text: string): void {
  const live = byId('live');
  live.className = `live ${kind}`;
  live.textContent = text;
}

export function liveOk(): void {
  setLive('ok', `live · updated ${new Date().toLocaleTimeString()}`);
}

/** Answers the delay (ms) until the next run, or undefined to stop. */
type Refresh = () => Promise<number | undefined>;

let poll: { timer: number | undefined; run: Refresh } | undefined;

/** Runs `run` now and then again after the delay it returns (ms), while the page is visible. */
export function startPolling(run: Refresh): void {
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

export function stopPolling(): void {
  if (poll?.timer !== undefined) window.clearTimeout(poll.timer);
  poll = undefined;
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && poll) startPolling(poll.run);
});
