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
import { dropTestSchemas } from '../helpers/backends.js';
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
          { key: 'fraudCheck', label: 'Fraud Check', kind: 'async', action: 'fraudCheckAction', onError: 'review', next: ['cartToOrder', 'review'] },
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
    const r = await fetch(`${server.url}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'password', username, password: PASSWORD }) });
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const api = async (tok: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
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
      for (const path of ['/page/api/flows', '/page/api/sessions', '/page/api/events', `${V}/checkout-sessions/0a7000000000000AAA/history`]) {
        expect((await fetch(`${server.url}${path}`)).status, path).toBe(401);
      }
      const buyer = await token('buyer@acme.example');
      const flows = (await api(buyer, 'GET', '/page/api/flows')).body as { id: string; nodes: { id: string; kind: string; x: number }[]; edges: { id: string; type: string; points: unknown[] }[] }[];
      expect(flows.map((f) => f.id).sort()).toEqual(['default', 'fraud', 'salesforce-main', 'salesforce-reentrant']);
      const def = flows.find((f) => f.id === 'default')!;
      expect(def.nodes.map((n) => n.id)).toEqual([...DEFAULT_FLOW.steps.map((s) => s.key), 'error']);
      expect(def.edges.every((e) => e.points.length >= 2)).toBe(true);
      const fraud = flows.find((f) => f.id === 'fraud')!;
      expect(fraud.edges.find((e) => e.id === 'fraudCheck-x>review')).toMatchObject({ type: 'error' });
      expect(fraud.nodes.find((n) => n.id === 'error')).toBeDefined(); // cartToOrder's default exit

      const started = await api(buyer, 'POST', `${V}/actions/standard/checkoutSessionAction`, { inputs: [{ cartId: c.cartId }] });
      const sessionId = started.body[0].outputValues.requestId as string;
      await api(buyer, 'POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, { inputs: [{ checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' }] });
      const h = await api(buyer, 'GET', `${V}/checkout-sessions/${sessionId}/history`);
      expect(h.status).toBe(200);
      expect(h.body).toMatchObject({ sessionId, flowId: 'default', history: [{ event: { type: 'CLAIM' }, from: 'start.idle', to: 'start.claimed_inventory', callerId: c.buyerId }] });
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
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1480, height: 1240 } });
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
      await page.waitForSelector('#current-state:text("start.claimed_inventory")');
      await invoke('checkCartInventoryAction', { cartId: c.cartId, runAsync: false });
      await expectCurrent('inventory');
      await invoke('updateCheckoutSessionStateAction', { checkoutSessionId: sessionId, expCurrentState: 'inventory', nextState: 'confirmPrice' });
      await invoke('priceCart', { cartId: c.cartId, runAsync: true });
      await expectCurrent('confirmPrice');
      // The path taken is highlighted: visited states and the transitions between them.
      for (const s of ['start', 'inventory']) expect(await page.locator(`#chart .node.visited[data-state="${s}"]`).count()).toBe(1);
      expect(await page.locator('#chart .edge.taken[data-edge="start->inventory"]').count()).toBe(1);
      expect(await page.locator('#chart .edge.taken[data-edge="inventory->confirmPrice"]').count()).toBe(1);
      expect(await page.locator('#chart .node.visited[data-state="taxes"]').count()).toBe(0);
      // A rejected call shows in the history beside the chart.
      const bad = await api(buyer, 'POST', `${V}/actions/standard/updateCheckoutSessionStateAction`, { inputs: [{ checkoutSessionId: sessionId, expCurrentState: 'start', nextState: 'inventory' }] });
      expect(bad.status).toBeGreaterThanOrEqual(400);
      await page.waitForSelector('#history li.rejected');

      // The rest of the checkout, through the runner (the same API calls, in process).
      const stop = await engine.runCheckout(c.cartId, { ...c.as, answers: { deliveryAddress: CA_ADDRESS, poNumber: 'PO-PAGE' }, stopAt: 'paymentAndBillingAddress' });
      expect(stop.status, stop.errors.join()).toBe('stopped');
      await expectCurrent('paymentAndBillingAddress');
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: new URL('statechart-page-midway.png', RESULTS).pathname, fullPage: true });
      if (SAVE_DOCS_SCREENSHOT) await page.screenshot({ path: new URL('../../docs/statechart-page.png', import.meta.url).pathname, fullPage: true });
      const done = await engine.runCheckout(c.cartId, c.as);
      expect(done.status, done.errors.join()).toBe('complete');
      await expectCurrent('complete');
      expect(await page.locator('#chart .node.visited').count()).toBe(DEFAULT_FLOW.steps.length);
      await page.screenshot({ path: new URL('statechart-page.png', RESULTS).pathname, fullPage: true });

      // Filters: the list narrows to sessions in error (none) and back.
      await page.selectOption('#f-error', 'true');
      await page.waitForSelector('#sessions li:text("No sessions match.")');
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
