/**
 * The statechart page (issue 10 items 3-4): its routes and login, the history endpoint, and an
 * end-to-end run in a real headless Chromium (system `chromium`, never downloaded; a missing
 * browser fails the test): sign in, drive a checkout through the API, and watch the highlighted
 * state follow it live. Screenshots go to test-results/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { createCheckoutEngine, DEFAULT_FLOW } from '../../src/index.js';
import { startServer } from '../../src/http/server.js';
import { dropTestSchemas, freshPgUrl } from '../helpers/backends.js';
import { CA_ADDRESS, cartOn } from '../flow/helpers.js';

afterAll(dropTestSchemas);

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'demo-password-1';
const V = '/services/data/v62.0';
const RESULTS = new URL('../../test-results/', import.meta.url);
const SAVE_DOCS_SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1';

async function setup() {
  const engine = await createCheckoutEngine({
    onError: () => {},
    flows: [
      {
        id: 'fraud',
        steps: [
          { key: 'start', label: 'Start', kind: 'screen' },
          {
            key: 'fraudCheck',
            label: 'Fraud Check',
            kind: 'async',
            action: 'fraudCheckAction',
            onError: 'review',
            next: ['cartToOrder', 'review'],
          },
          { key: 'review', label: 'Manual Review', kind: 'screen', next: ['cartToOrder'] },
          { key: 'cartToOrder', label: 'Cart To Order', kind: 'async', action: 'cartToOrderAction' },
          { key: 'done', label: 'Done', kind: 'final' },
        ],
      },
    ],
  });
  const c = await cartOn(engine, { lines: 2 });
  const server = await startServer(engine, { port: 0, log: false });
  const token = async (username: string) => {
    const r = await fetch(`${server.url}/services/oauth2/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', username, password: PASSWORD }),
    });
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const api = async (tok: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: r.status === 204 ? null : ((await r.json()) as any) };
  };
  return { engine, c, server, token, api };
}

describe('statechart page routes', () => {
  it('serves the page and assets without login, its data only with one, and history only to readers', async () => {
    const { server, c, token, api, engine } = await setup();
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<script src="/page/app.js">');
      expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN: every asset comes from the engine
      const js = await (await fetch(`${server.url}/page/app.js`)).text();
      expect(js).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
      for (const path of [
        '/page/api/flows',
        '/page/api/sessions',
        '/page/api/events',
        `${V}/checkout-sessions/0a7000000000000AAA/history`,
      ]) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(401);
      }
      const buyer = await token('buyer@acme.example');
      const flows = (await api(buyer, 'GET', '/page/api/flows')).body as {
        id: string;
        nodes: { id: string; kind: string; x: number }[];
        edges: { id: string; type: string; points: unknown[] }[];
      }[];
      expect(flows.map((f) => f.id).sort()).toEqual([
        'connect',
        'default',
        'fraud',
        'salesforce-main',
        'salesforce-main-checkout',
        'salesforce-reentrant',
      ]);
      const def = flows.find((f) => f.id === 'default')!;
      expect(def.nodes.map((n) => n.id)).toEqual([...DEFAULT_FLOW.steps.map((s) => s.key), 'error']);
      expect(def.edges.every((e) => e.points.length >= 2)).toBe(true);
      const fraud = flows.find((f) => f.id === 'fraud')!;
      expect(fraud.edges.find((e) => e.id === 'fraudCheck-x>review')).toMatchObject({ type: 'error' });
      expect(fraud.nodes.find((n) => n.id === 'error')).toBeDefined(); // cartToOrder's default exit

      const started = await api(buyer, 'POST', `${V}/actions/standard/checkoutSessionAction`, { inputs: [{ cartId: c.cartId }] });
      const sessionId = started.body[0].outputValues.requestId as string;
      await api(buyer, 'POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
        inputs: [{ checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' }],
      });
      const h = await api(buyer, 'GET', `${V}/checkout-sessions/${sessionId}/history`);
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({
        sessionId,
        flowId: 'default',
        history: [{ event: { type: 'CLAIM' }, from: 'start.idle', to: 'start.claimed_inventory', callerId: c.buyerId }],
      });
      const outsider = await token('buyer@globex.example');
      expect((await api(outsider, 'GET', `${V}/checkout-sessions/${sessionId}/history`)).status).toBe(404);
      expect((await api(outsider, 'GET', '/page/api/sessions')).body.records).toEqual([]);
      const mine = await api(buyer, 'GET', `/page/api/sessions?state=start&error=false&cart=${c.cartId.slice(0, 15)}`);
      expect(mine.body.records.map((r: { Id: string }) => r.Id)).toEqual([sessionId]);
      expect((await api(buyer, 'GET', '/page/api/sessions?state=complete')).body.records).toEqual([]);
      expect((await api(buyer, 'GET', '/page/api/sessions?error=maybe')).status).toBe(400);
      expect((await api(buyer, 'GET', `/services/data/v12.0/checkout-sessions/${sessionId}/history`)).status).toBe(404);
    } finally {
      await server.close();
      expect(engine.core.closed).toBe(true);
    }
  });
});

describe('statechart page in headless Chromium', () => {
  it('follows a checkout driven through the API, live', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with apt-get install -y chromium`).toBe(true);
    const { server, c, token, api, engine } = await setup();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      // The window the issue measured: the whole flow must fit it.
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const failedResponses: string[] = [];
      page.on('response', (r) => {
        if (r.status() >= 400 && !r.url().endsWith('/services/oauth2/token')) failedResponses.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(`${server.url}/`);
      // The page is behind the API's login.
      await page.fill('#username', 'buyer@acme.example');
      await page.fill('#password', 'wrong-password');
      await page.click('#login-form button');
      await page.waitForSelector('#login-error:text("authentication failure")');
      await page.fill('#password', PASSWORD);
      await page.click('#login-form button');
      await page.waitForSelector('#chart svg .node[data-state="cartToOrder"]');
      await page.waitForSelector('#live.on');

      const buyer = await token('buyer@acme.example');
      const invoke = async (action: string, input: Record<string, unknown>) => {
        const r = await api(buyer, 'POST', `${V}/actions/standard/${action}`, { inputs: [input] });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r.body[0].outputValues as Record<string, unknown>;
      };
      const sessionId = String((await invoke('checkoutSessionAction', { cartId: c.cartId })).requestId);
      await page.click(`#sessions li[data-session="${sessionId}"]`, { timeout: 10_000 });
      const current = () => page.getAttribute('#current-state', 'data-state');
      const expectCurrent = async (state: string) => {
        await page.waitForSelector(`#chart .node.current[data-state="${state}"]`, { timeout: 10_000 });
        expect(await current()).toBe(state);
        expect(await page.locator('#chart .node[data-current]').count()).toBe(1);
      };
      await expectCurrent('start');

      await invoke('updateCheckoutSessionStateAction', { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' });
      // The current step is shown by its label (the internal path only as a tooltip).
      await page.waitForSelector('#current-state[data-path="start.claimed_inventory"]');
      expect(await page.textContent('#current-state')).toBe('Start · Inventory claimed');
      expect(await page.getAttribute('#current-state', 'title')).toBe('start.claimed_inventory');
      await invoke('checkCartInventoryAction', { cartId: c.cartId, runAsync: false });
      await expectCurrent('inventory');
      await invoke('updateCheckoutSessionStateAction', {
        checkoutSessionId: sessionId,
        expCurrentState: 'inventory',
        nextState: 'confirmPrice',
      });
      await invoke('priceCart', { cartId: c.cartId, runAsync: true });
      await expectCurrent('confirmPrice');
      // The path taken is highlighted: visited states and the transitions between them.
      for (const s of ['start', 'inventory']) expect(await page.locator(`#chart .node.visited[data-state="${s}"]`).count()).toBe(1);
      expect(await page.locator('#chart .edge.taken[data-edge="start->inventory"]').count()).toBe(1);
      expect(await page.locator('#chart .edge.taken[data-edge="inventory->confirmPrice"]').count()).toBe(1);
      expect(await page.locator('#chart .node.visited[data-state="taxes"]').count()).toBe(0);
      // A rejected call shows in the history beside the chart.
      const bad = await api(buyer, 'POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, {
        inputs: [{ checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' }],
      });
      expect(bad.status).toBeGreaterThanOrEqual(400);
      await page.waitForSelector('#history li.rejected');

      // The rest of the checkout, through the runner (the same API calls, in process).
      const stop = await engine.runCheckout(c.cartId, {
        ...c.as,
        answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-PAGE' },
        stopAt: 'paymentAndBillingAddress',
      });
      expect(stop.status, stop.errors.join()).toBe('stopped');
      await expectCurrent('paymentAndBillingAddress');
      // At 1400×900 the whole flow fits the chart (nothing cut off after Checkout Summary), every
      // transition has a visible label, and the history panel shows its newest entry.
      const fit = await page.evaluate(() => {
        const document = (globalThis as any).document;
        const box = document.querySelector('#chart')!.getBoundingClientRect();
        const outside = [...document.querySelectorAll('#chart .node')].filter((n: any) => {
          const r = n.getBoundingClientRect();
          return r.left < box.left - 1 || r.top < box.top - 1 || r.right > box.right + 1 || r.bottom > box.bottom + 1;
        });
        const panel = document.querySelector('#history-panel')!;
        return {
          outside: outside.map((n: any) => n.getAttribute('data-state')),
          nodes: document.querySelectorAll('#chart .node').length,
          labels: [...document.querySelectorAll('#chart [data-edge-label] text')].filter((t: any) => t.getBoundingClientRect().width > 0)
            .length,
          edges: document.querySelectorAll('#chart [data-edge]').length,
          historyAtEnd: panel.scrollHeight <= panel.clientHeight || panel.scrollTop + panel.clientHeight >= panel.scrollHeight - 2,
          historyScrolls: panel.scrollHeight > panel.clientHeight,
        };
      });
      expect(fit.nodes).toBe(DEFAULT_FLOW.steps.length + 1);
      expect(fit.outside).toEqual([]);
      expect(fit.labels).toBe(fit.edges);
      expect(await page.locator('#chart [data-edge-label="start->inventory"] text').textContent()).toBe('claim');
      expect(fit.historyAtEnd).toBe(true);
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: new URL('statechart-page-midway.png', RESULTS).pathname, fullPage: true });
      if (SAVE_DOCS_SCREENSHOT)
        await page.screenshot({ path: new URL('../../docs/statechart-page.png', import.meta.url).pathname, fullPage: true });
      const done = await engine.runCheckout(c.cartId, c.as);
      expect(done.status, done.errors.join()).toBe('complete');
      await expectCurrent('complete');
      expect(await page.locator('#chart .node.visited').count()).toBe(DEFAULT_FLOW.steps.length);
      await page.screenshot({ path: new URL('statechart-page.png', RESULTS).pathname, fullPage: true });

      // Zoomed in, the current step is kept in view; Fit shows the whole flow again.
      const whole = await page.getAttribute('#chart svg', 'viewBox');
      for (let i = 0; i < 4; i++) await page.click('#zoom-in');
      expect(await page.getAttribute('#chart svg', 'viewBox')).not.toBe(whole);
      await page.click(`#sessions li[data-session="${sessionId}"]`); // redrawn: the current step is panned into view
      await page.waitForSelector('#chart .node.current[data-state="complete"]');
      // The pan runs after the redraw: wait (bounded) until the current step sits inside the chart.
      const inView = await page
        .waitForFunction(
          () => {
            const document = (globalThis as any).document;
            const box = document.querySelector('#chart').getBoundingClientRect();
            const r = document.querySelector('#chart .node.current')?.getBoundingClientRect();
            return !!r && r.left >= box.left && r.top >= box.top && r.right <= box.right && r.bottom <= box.bottom;
          },
          undefined,
          { timeout: 5_000 },
        )
        .then(
          () => true,
          () => false,
        );
      expect(inView).toBe(true);
      await page.click('#zoom-fit');
      expect(await page.getAttribute('#chart svg', 'viewBox')).toBe(whole);

      // Switching flows clears the selection: no stale state over an unrelated diagram.
      await page.selectOption('#flow', 'fraud');
      await page.waitForSelector('#chart .node[data-state="fraudCheck"]');
      expect(await page.textContent('#current-state')).toBe('—');
      expect(await page.locator('#chart .node.current').count()).toBe(0);
      expect(await page.locator('#history li').count()).toBe(0);
      expect(await page.locator('#sessions li.selected').count()).toBe(0);

      // A failed checkout says why: the failed step's error and the cart's validation outputs.
      engine.registerIntegration('taxes', {
        startCartProcessAsync: async (_input, cartId, data) => {
          data.addValidation({ Message: 'The tax service refused the ship-to address.', RelatedEntityId: cartId });
          return { status: 'FAILED' };
        },
      });
      const failing = await cartOn(engine, { lines: 1 });
      const failed = await engine.runCheckout(failing.cartId, {
        ...failing.as,
        answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-FAIL' },
      });
      expect(failed.status).toBe('error');
      const failedSession = String(
        (await engine.query(`SELECT Id FROM CartCheckoutSession WHERE WebCartId = '${failing.cartId}'`, failing.as)).records[0]!.Id,
      );
      await page.click(`#sessions li[data-session="${failedSession}"]`, { timeout: 10_000 });
      await page.waitForSelector('#failure:not([hidden]) #failure-outputs li:has-text("The tax service refused the ship-to address.")');
      expect(await page.textContent('#failure-step')).toBe('at Taxes');
      expect(await page.textContent('#failure-error')).toBe('The tax service refused the ship-to address.');
      expect(await page.textContent('#failure-outputs')).toContain('Error Taxes');
      expect(await page.getAttribute('#current-state', 'data-state')).toBe('error');
      await page.screenshot({ path: new URL('statechart-page-failed.png', RESULTS).pathname });

      // Filters: the list narrows to sessions in error (the failed one) and back.
      await page.selectOption('#f-error', 'false');
      await page.fill('#f-state', 'nothing-like-this');
      await page.waitForSelector('#sessions li:text("No sessions match.")');
      // No request of the page failed (the favicon included).
      expect(failedResponses).toEqual([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('on PostgreSQL, a claim made by another engine process reaches the page live', async () => {
    const url = freshPgUrl();
    const other = await createCheckoutEngine({ storage: url, onError: () => {} }); // the process that drives the checkout
    const c = await cartOn(other, { lines: 1 });
    const served = await createCheckoutEngine({ storage: url, onError: () => {} }); // the process serving the page
    const server = await startServer(served, { port: 0, log: false });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    try {
      const invoke = async (action: string, input: Record<string, unknown>) => {
        const [r] = await other.invoke(action, [input], c.as);
        expect(r!.isSuccess, JSON.stringify(r)).toBe(true);
        return r!.outputValues as Record<string, unknown>;
      };
      const sessionId = String((await invoke('checkoutSessionAction', { cartId: c.cartId })).requestId);
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${server.url}/`);
      await page.fill('#username', 'buyer@acme.example');
      await page.fill('#password', PASSWORD);
      await page.click('#login-form button');
      await page.waitForSelector('#live.on');
      await page.click(`#sessions li[data-session="${sessionId}"]`, { timeout: 10_000 });
      await page.waitForSelector('#chart .node.current[data-state="start"]');
      // The page re-reads nothing here: the claim reaches it through the other process's notification.
      await invoke('updateCheckoutSessionStateAction', { checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' });
      await page.waitForSelector('#current-state[data-path="start.claimed_inventory"]', { timeout: 10_000 });
      await invoke('checkCartInventoryAction', { cartId: c.cartId, runAsync: false });
      await page.waitForSelector('#chart .node.current[data-state="inventory"]', { timeout: 10_000 });
      expect(served.feed.received).toBeGreaterThanOrEqual(2);
      expect(await page.locator('#history li').count()).toBeGreaterThanOrEqual(3);
    } finally {
      await browser.close();
      await server.close();
      await other.close();
    }
  });
});
