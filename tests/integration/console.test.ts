import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { pollUntil } from '../../client/poll';
import { type RunningConsole, startConsole } from '../../console/server';
import { launchChromium } from '../browser/chromium';
import { apiClient, exampleWorkflow, getMachine, waitFor } from '../helpers/api';
import { currentStack } from '../helpers/stack';

// Globals of the page, for the functions that run inside it (page.evaluate); tsconfig has no DOM lib.
declare const window: any;
declare const document: any;
declare const MutationObserver: any;

const SCREENSHOTS = join(__dirname, '..', '..', 'docs', 'screenshots');
const PAGE_WEIGHT_BUDGET = 300 * 1024;

/** A GET to the console with a Host header of our choosing (fetch does not let one set Host). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Adds a machine through the API (as another user would) and returns its id. */
async function addThroughApi(definition: unknown): Promise<string> {
  return (await apiClient().addMachine(definition)).id;
}

describe('the web console, in a real Chromium', function () {
  this.timeout(120_000);
  let consoleServer: RunningConsole;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async function () {
    this.timeout(60_000);
    consoleServer = await startConsole({ endpoint: currentStack().apiUrl });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await consoleServer?.stop();
  });

  it('refuses everything without the token (403), a foreign Host, and cross-origin writes', async () => {
    const { origin, url, port } = consoleServer;
    expect((await fetch(`${origin}/`)).status).to.equal(403);
    expect((await fetch(`${origin}/api/overview`)).status).to.equal(403);
    expect((await fetch(`${origin}/api/machines`, { method: 'POST', body: '{}' })).status).to.equal(403);
    expect((await fetch(`${origin}/?token=not-the-token`, { redirect: 'manual' })).status).to.equal(403);

    // A browser without the cookie: the page itself is refused.
    const stranger = await browser.newContext();
    const refused = await (await stranger.newPage()).goto(`${origin}/`);
    expect(refused?.status()).to.equal(403);
    await stranger.close();

    // DNS rebinding: a name that resolves to 127.0.0.1 still sends its own Host.
    expect(await getWithHost(url, `evil.example:${port}`)).to.equal(403);
    expect(await getWithHost(url, `localhost:${port}`)).to.equal(303);

    // The token URL hands out an HttpOnly, SameSite=Strict cookie and redirects without the token.
    const handedOut = await fetch(url, { redirect: 'manual' });
    expect(handedOut.status).to.equal(303);
    expect(handedOut.headers.get('location')).to.equal('/');
    const cookie = handedOut.headers.get('set-cookie') ?? '';
    expect(cookie).to.match(/; HttpOnly; SameSite=Strict; Path=\//);
    const session = cookie.split(';')[0] ?? '';
    expect((await fetch(`${origin}/api/overview`, { headers: { cookie: session } })).status).to.equal(200);
    // With the cookie, a write from another origin or a non-JSON (form) body is still refused.
    const post = (headers: Record<string, string>) =>
      fetch(`${origin}/api/machines`, { method: 'POST', headers: { cookie: session, ...headers }, body: '{}' });
    expect((await post({ 'content-type': 'application/json', origin: 'http://evil.example' })).status).to.equal(403);
    expect((await post({ 'content-type': 'application/x-www-form-urlencoded' })).status).to.equal(415);
  });

  it('opens from the printed URL within the page-weight budget, and loads nothing from elsewhere', async () => {
    const assets: { url: string; bytes: number }[] = [];
    const foreign: string[] = [];
    const listener = (request: import('playwright-core').Request) => {
      if (!request.url().startsWith(consoleServer.origin)) foreign.push(request.url());
    };
    page.on('request', listener);
    const responses: Promise<void>[] = [];
    const onResponse = (response: import('playwright-core').Response) => {
      if (!/\.(js|css)$/.test(new URL(response.url()).pathname)) return;
      responses.push(
        response
          .request()
          .sizes()
          .then((sizes) => {
            assets.push({ url: response.url(), bytes: sizes.responseBodySize });
          }),
      );
    };
    page.on('response', onResponse);
    await page.goto(consoleServer.url);
    await page.waitForSelector('#rows');
    await Promise.all(responses);
    page.off('request', listener);
    page.off('response', onResponse);

    expect(new URL(page.url()).search, 'the token is gone from the address bar').to.equal('');
    const total = assets.reduce((sum, a) => sum + a.bytes, 0);
    console.log(
      `      page weight (JS+CSS as transferred, gzip): ${total} bytes (${assets.map((a) => `${new URL(a.url).pathname} ${a.bytes}`).join(', ')})`,
    );
    expect(assets.map((a) => new URL(a.url).pathname).sort()).to.deep.equal(['/assets/app.css', '/assets/app.js']);
    expect(total).to.be.greaterThan(0).and.at.most(PAGE_WEIGHT_BUDGET);
    expect(foreign).to.deep.equal([]);
  });

  it('adds a machine from the form and shows it reach SUCCEEDED without a reload, the final state highlighted', async () => {
    await page.goto(`${consoleServer.origin}/`);
    await page.click('#add-toggle');
    const definition = {
      ...exampleWorkflow({ branch: 'b', delay: 1, failTimes: 1, next: 'TASK-1' }),
      config: { ...exampleWorkflow().config, START: 'flaky' },
      options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 } },
    };
    await page.fill('#def', JSON.stringify(definition, null, 2));
    await page.click('#add-form button[type=submit]');
    await page.waitForURL(/\/machines\/[0-9a-f-]{36}$/);
    const id = decodeURIComponent(page.url().split('/').pop() ?? '');
    await page.evaluate(() => {
      // Survives only if the page is never reloaded; records when SUCCEEDED is first shown.
      const w = window as any;
      w.noReload = true;
      new MutationObserver(() => {
        const shown = document.getElementById('machine-status')?.dataset.machineStatus as string | undefined;
        if (shown === 'SUCCEEDED' && !w.succeededShownAt) w.succeededShownAt = Date.now();
      }).observe(document.getElementById('main') as unknown, { subtree: true, attributes: true, childList: true });
    });

    await page.waitForSelector('#machine-status[data-machine-status="RUNNING"]', { timeout: 10_000 });
    await page.waitForSelector('#machine-status[data-machine-status="SUCCEEDED"]', { timeout: 60_000 });
    const shownAt = await page.evaluate(() => (window as any).succeededShownAt as number);
    expect(await page.evaluate(() => (window as any).noReload)).to.equal(true);
    const machine = await apiClient().getMachine(id);
    expect(machine.status).to.equal('SUCCEEDED');
    console.log(
      `      commit (finishedAt) -> console showing SUCCEEDED: ${shownAt - Date.parse(machine.finishedAt ?? '')} ms`,
    );
    expect(await page.textContent('#machine-state')).to.equal('FINALIZE');
    expect(await page.locator('#timeline tr').count()).to.equal(6); // created, retry, 3 transitions, succeeded
    expect(await page.locator('#timeline tr[data-outcome="retry"]').count()).to.equal(1);

    // The diagram: the same SVG as the API's, the final state marked.
    const diagram = page.locator('#diagram[data-status="SUCCEEDED"]');
    await diagram.waitFor({ timeout: 15_000 });
    // The image is in the page before the server has drawn it (a cold SVG render takes seconds on a loaded machine).
    await page
      .waitForFunction(
        () => {
          const img = document.querySelector('#diagram[data-status="SUCCEEDED"]') as any;
          return img?.complete && img.naturalWidth > 0;
        },
        undefined,
        { timeout: 15_000 },
      )
      .catch(() => undefined);
    expect(await diagram.evaluate((img: any) => img.naturalWidth > 0 && img.complete)).to.equal(true);
    const src = await diagram.getAttribute('src');
    const svg = await page.evaluate(async (url) => (await fetch(url as string)).text(), src);
    expect(svg).to.match(/^<svg /);
    for (const state of Object.keys(definition.config)) expect(svg).to.include(`data-label="${state}"`);
    expect(svg).to.match(/<g class="node visited current succeeded" data-id="s4" data-label="FINALIZE"/);
    expect(svg).to.match(/<g class="node unvisited" data-id="s2" data-label="TASK-2a"/);
    expect(svg).to.match(/data-from="s0" data-to="s0"[^>]* data-label="retry"/);
    expect(svg).not.to.include('@import');

    await page.evaluate(() => document.activeElement?.blur());
    await page.mouse.move(1, 790);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-machine.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-machine-mobile.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the API 400 details next to the definition field', async () => {
    await page.goto(`${consoleServer.origin}/`);
    await page.click('#add-toggle');
    await page.fill('#def', JSON.stringify({ state: 'START', config: { START: 'prepare', 'TASK-1': 'no such fn!' } }));
    await page.click('#add-form button[type=submit]');
    const issue = page.locator('.field-row #def-errors li[data-path="config.TASK-1"]');
    await issue.waitFor({ timeout: 10_000 });
    expect(await issue.textContent()).to.match(/^config\.TASK-1 \S/);
    expect(await page.textContent('#def-errors li.summary')).to.match(/^400: /);
    expect(await page.getAttribute('#def', 'aria-invalid')).to.equal('true');
    expect(new URL(page.url()).pathname).to.equal('/');

    await page.fill('#def', '{ not json');
    await page.click('#add-form button[type=submit]');
    await page.locator('#def-errors li[data-path="(body)"]').waitFor({ timeout: 10_000 });
  });

  it('lists machines live: one added elsewhere appears and its status changes, without a reload', async () => {
    await page.goto(`${consoleServer.origin}/`);
    await page.waitForSelector('#rows');
    await page.evaluate(() => {
      (window as any).noReload = true;
    });
    const name = `console-live-${Date.now()}`;
    await addThroughApi({ ...exampleWorkflow({ branch: 'a', delay: 1 }), name });
    const row = page.locator(`tr[data-id="${name}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-status')).to.equal('RUNNING');
    await page.locator(`tr[data-id="${name}"][data-status="SUCCEEDED"]`).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => (window as any).noReload)).to.equal(true);

    // Filter and search.
    await page.click('button.filter[data-status="SUCCEEDED"]');
    await page.locator(`tr[data-id="${name}"]`).waitFor();
    expect(await page.getAttribute('button.filter[data-status="SUCCEEDED"]', 'aria-pressed')).to.equal('true');
    await page.click('button.filter[data-status="RUNNING"]');
    await page.locator(`tr[data-id="${name}"]`).waitFor({ state: 'detached' });
    await page.click('button.filter[data-status="ALL"]');
    await page.fill('#q', name);
    await pollUntil(
      () => page.locator('#rows tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id'))),
      (ids) => ids.length === 1 && ids[0] === name,
      { what: 'the search to keep only the named machine', timeoutMs: 10_000 },
    );
    await page.fill('#q', '');
    await page.locator('#rows tr[data-id]').nth(1).waitFor();
  });

  it('resumes a PARKED machine with new data, and deletes one (204) so it goes from the list', async () => {
    const parked = () =>
      addThroughApi({
        state: 'START',
        config: { START: 'park', FINALIZE: 'finalize' },
        object: { next: 'FINALIZE', parkTimeout: 3600 },
      });
    const [toResume, toDelete] = [await parked(), await parked()];
    for (const id of [toResume, toDelete]) {
      await waitFor(
        () => getMachine(id),
        (r) => r.body.status === 'PARKED',
        { what: `${id} to park` },
      );
    }

    await page.goto(`${consoleServer.origin}/machines/${toResume}`);
    await page.waitForSelector('#resume-form');
    // Its deadline, counting down (docs/design.md "Deadlines").
    const facts = (await page.textContent('dl.facts')) ?? '';
    expect(facts, facts).to.match(/Times out.* · in (59 min|1 h 0 min)/);
    await page.fill('#resume-object', '{ "approved": true }');
    await page.click('#resume-form button[type=submit]');
    await page.waitForSelector('#machine-status[data-machine-status="SUCCEEDED"]', { timeout: 30_000 });
    expect((await apiClient().getMachine(toResume)).object).to.deep.equal({ approved: true });

    // From the list, by keyboard-free clicks as a user would: open it, delete it, see it gone.
    await page.goto(`${consoleServer.origin}/?status=PARKED`);
    await page.click(`tr[data-id="${toDelete}"] a`);
    await page.waitForSelector('#machine-status[data-machine-status="PARKED"]');
    await page.click('#delete');
    await page.click('#delete-confirm');
    await page.waitForURL(`${consoleServer.origin}/`);
    expect(await page.textContent('#flash')).to.match(/Deleted .* \(204\)/);
    await page.waitForSelector('#rows');
    expect(await page.locator(`tr[data-id="${toDelete}"]`).count()).to.equal(0);
    expect((await getMachine(toDelete)).status).to.equal(404);
  });

  it('offers redrive on a FAILED machine and copes with an API without the route', async () => {
    const id = await addThroughApi({ state: 'S', config: { S: 'garbage' } });
    await page.goto(`${consoleServer.origin}/machines/${id}`);
    await page.waitForSelector('#machine-status[data-machine-status="FAILED"]', { timeout: 30_000 });
    expect(await page.textContent('.error-box')).to.match(/malformed handler result/);
    await page.click('#redrive');
    // Whichever this API is: one without POST /machines/{id}/redrive (404), or one with it.
    await page.waitForFunction(
      () => /no redrive yet \(404\)|Redriven|Cannot redrive/.test(document.getElementById('main')?.textContent ?? ''),
      undefined,
      { timeout: 10_000 },
    );
  });

  it('is usable by keyboard, with every control labelled', async () => {
    await page.goto(`${consoleServer.origin}/`);
    await page.waitForSelector('#rows tr');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal('Skip to content');
    // Open the form by keyboard only.
    await page.focus('#add-toggle');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('def');
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('button, input, select, textarea, a')]
        .filter((el) => {
          const labels = (el as any).labels;
          const name =
            el.getAttribute('aria-label') ?? (labels && labels.length > 0 ? 'label' : el.textContent?.trim());
          return !name;
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unlabelled).to.deep.equal([]);

    // The list, after the tests above added machines of every status.
    await page.keyboard.press('Escape');
    await page.click('#add-toggle');
    await page.evaluate(() => document.activeElement?.blur());
    await page.mouse.move(1, 790);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-machines.png') });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, 'console-machines-mobile.png') });
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
