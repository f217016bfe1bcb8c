/**
 * Flow interviews on the statechart page (issue 19 item 6): loaded Flow metadata is drawn from its
 * element graph (`flow:<apiName>` in /page/api/flows), the user's interviews are listed (another
 * buyer's never), and in headless Chromium (Debian's `chromium`; a missing browser fails the test)
 * choosing an interview shows its flow with the element it stands on highlighted, following it as
 * the interview is navigated through the API.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { startServer, type RunningServer } from '../../src/http/server.js';

const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'demo-password-1';
const V = '/services/data/v62.0';
const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));
const RESULTS = new URL('../../test-results/', import.meta.url);

describe('flow interviews on the statechart page', () => {
  let engine: CheckoutEngine;
  let server: RunningServer;
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
    return { status: r.status, body: (await r.json()) as any };
  };

  beforeAll(async () => {
    engine = await createCheckoutEngine({ flowSources: [GIFT], onError: () => {} });
    await demo.newCart(engine, { lines: 1, groups: 1 });
    await demo.newCart(engine, { buyer: demo.users.otherBuyer, lines: 1, groups: 1 });
    server = await startServer(engine, { port: 0, log: false });
  });
  afterAll(() => server?.close());

  it('draws the loaded flow from its elements and lists only the caller’s interviews', async () => {
    for (const path of ['/page/api/interviews', '/page/api/interviews/0Fo000000000001AAA'])
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(401);
    const buyer = await token(demo.users.buyer);
    const outsider = await token(demo.users.otherBuyer);
    const flows = (await api(buyer, 'GET', '/page/api/flows')).body as {
      id: string;
      nodes: { id: string; kind: string }[];
      edges: { id: string; type: string; short: string }[];
    }[];
    const gift = flows.find((f) => f.id === 'flow:Gift_Options')!;
    expect(gift).toBeDefined();
    expect(gift.nodes.find((n) => n.id === 'Wrap_Decision')).toMatchObject({ kind: 'decision' });
    expect(gift.edges.find((e) => e.id.startsWith('Wrap_Decision->Ask_Message'))).toMatchObject({ type: 'next', short: 'Gift wrap' });

    const started = await api(buyer, 'POST', `${V}/flows/Gift_Options/interviews`, { inputs: {} });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const id = started.body.id as string;
    const mine = (await api(buyer, 'GET', '/page/api/interviews')).body.records as { id: string; currentElement: string }[];
    expect(mine.find((r) => r.id === id)).toMatchObject({ currentElement: 'Ask_Wrap', status: 'Paused', flowApiName: 'Gift_Options' });
    expect((await api(buyer, 'GET', `/page/api/interviews/${id}`)).body).toMatchObject({ id, currentElement: 'Ask_Wrap' });
    // Another buyer sees none of it.
    expect((await api(outsider, 'GET', '/page/api/interviews')).body.records.map((r: { id: string }) => r.id)).not.toContain(id);
    const hidden = await api(outsider, 'GET', `/page/api/interviews/${id}`);
    expect(hidden.status).toBe(404);
    expect(hidden.body[0]).toMatchObject({ errorCode: 'NOT_FOUND' });
    expect((await api(buyer, 'GET', '/page/api/interviews/not-an-id')).status).toBe(400);
  });

  it('highlights the element a chosen interview stands on, in headless Chromium', async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install it with apt-get install -y chromium`).toBe(true);
    const buyer = await token(demo.users.buyer);
    const started = await api(buyer, 'POST', `${V}/flows/Gift_Options/interviews`, { inputs: {} });
    const id = started.body.id as string;
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
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await page.goto(`${server.url}/`);
      await page.fill('#username', demo.users.buyer);
      await page.fill('#password', PASSWORD);
      await page.click('#login-form button');
      await page.click(`#interviews li[data-interview="${id}"]`, { timeout: 10_000 });
      const at = async (element: string) => {
        await page.waitForSelector(`#chart .node.current[data-state="${element}"]`, { timeout: 10_000 });
        expect(await page.locator('#chart .node[data-current]').count()).toBe(1);
      };
      await at('Ask_Wrap');
      expect(await page.inputValue('#flow')).toBe('flow:Gift_Options');
      expect(await page.isVisible('#legend-flow')).toBe(true);
      expect(await page.textContent('#current-state')).toBe('Gift wrap? · Paused');
      // The decision's outcomes are labelled on the chart; plain connectors carry no label.
      expect(await page.locator('#chart [data-edge-label] text', { hasText: 'Gift wrap' }).count()).toBe(1);
      expect(await page.locator('#chart [data-edge-label^="Set_Plain->"]').count()).toBe(0);

      const nav = async (body: unknown) =>
        expect((await api(buyer, 'POST', `${V}/flows/interviews/${id}/navigate`, body)).status).toBeLessThan(300);
      await nav({ action: 'NEXT', answers: { Wants_Wrap: { value: true } } });
      await at('Ask_Message'); // the list refreshes every few seconds and the highlight follows
      await nav({ action: 'NEXT', answers: { Gift_Message: { value: '' } } });
      await at('Confirm');
      mkdirSync(RESULTS, { recursive: true });
      await page.screenshot({ path: new URL('statechart-page-interview.png', RESULTS).pathname, fullPage: true });
      await nav({ action: 'FINISH' });
      await at('__end');
      expect(await page.textContent('#current-state')).toBe('End · Finished');
    } finally {
      await browser.close();
    }
  }, 60_000);
});
