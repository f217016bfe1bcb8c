/**
 * The HTTP surface pinned byte for byte: the OpenAPI document, the route table (every method and
 * path Fastify routes), and for each route what an anonymous caller gets (status, security
 * headers, error body) and what a wrong method gets (405 and its Allow header). Any change to a
 * route, its authentication or its OpenAPI entry shows up as a diff of the files in
 * test/http/__snapshots__/ (update them with `npx vitest run test/http/route-table.test.ts -u`
 * only when the change is intended).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCheckoutEngine, demo, type CheckoutEngine } from '../../src/index.js';
import { buildServer } from '../../src/http/server.js';

let engine: CheckoutEngine;
let app: FastifyInstance;
let auth: Record<string, string>;

beforeAll(async () => {
  engine = await createCheckoutEngine({ storage: ':memory:', onError: () => {} });
  app = buildServer(engine, { log: false, publicUrl: 'https://checkout.example' }).app;
  await app.ready();
  await demo.newCart(engine);
  const login = await app.inject({
    method: 'POST',
    url: '/services/oauth2/token',
    payload: { grant_type: 'password', client_id: 'x', client_secret: 'y', username: demo.users.buyer, password: demo.users.password },
  });
  expect(login.statusCode, login.body).toBe(200);
  auth = { authorization: `Bearer ${login.json().access_token as string}` };
});
afterAll(async () => {
  await app.close();
  await engine.close();
});

/** Every route Fastify knows, one `METHOD path` per line, sorted (read from its printed route tree). */
function routeTable(): string[] {
  const lines: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^(.*?)[└├]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of m[3]!.split(', ')) lines.push(`${method} ${stack.join('')}`);
  }
  return lines.sort();
}

/** A concrete URL for a route pattern. */
const concrete = (url: string) =>
  url
    .replace(':version', 'v62.0')
    .replace(':type', 'WebCart')
    .replace(':id', '0a6000000000001AAA')
    .replace(':action', 'checkoutSessionAction')
    .replace(':apiName', 'Checkout_Main')
    .replace(':org', '00D000000000001AAA')
    .replace(':user', '005000000000001AAA')
    .replace(':webstoreId', '0ZE000000000001AAA')
    .replace(':productId', '01t000000000001AAA')
    .replace(':accountId', '001000000000001AAA')
    .replace(':addressId', '8lW000000000001AAA')
    .replace(':orderSummaryId', '1Os000000000001AAA')
    .replace('*', 'x');

describe('HTTP surface (pinned)', () => {
  it('serves the same OpenAPI document, byte for byte', async () => {
    const r = await app.inject({ method: 'GET', url: '/openapi.json', headers: auth });
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body) as { paths: Record<string, Record<string, unknown>> };
    // The route list first (a readable diff), then the whole document.
    const list = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    await expect(list.join('\n') + '\n').toMatchFileSnapshot('__snapshots__/openapi-routes.txt');
    await expect(r.body).toMatchFileSnapshot('__snapshots__/openapi.json');
  });

  it('routes the same methods and paths, with the same anonymous answers and 405s', async () => {
    const table = routeTable();
    expect(table.length).toBeGreaterThan(30);
    const out: string[] = [];
    for (const entry of table) {
      const [method, url] = entry.split(' ') as [string, string];
      if (method === 'HEAD') {
        out.push(entry);
        continue;
      }
      // An anonymous call: public routes answer, the others refuse before parsing the body.
      const anon = await app.inject({
        method: method as 'GET',
        url: concrete(url),
        ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
      });
      const sec = ['x-content-type-options', 'x-frame-options', 'content-security-policy', 'referrer-policy']
        .map((h) => `${h}=${String(anon.headers[h])}`)
        .join('; ');
      const body = anon.statusCode === 401 || anon.statusCode === 404 ? ` ${anon.body}` : '';
      out.push(`${entry} -> anonymous ${anon.statusCode} [${String(anon.headers['content-type'])}] {${sec}}${body}`);
    }
    // A method no route takes: 405 with the methods the path takes (or 404 for an unknown one).
    for (const url of [...new Set(table.map((e) => e.split(' ')[1]!))]) {
      const r = await app.inject({ method: 'PUT', url: concrete(url), headers: auth, payload: {} });
      out.push(`PUT ${url} -> ${r.statusCode} allow=${String(r.headers.allow)} ${r.body}`);
    }
    await expect(out.join('\n') + '\n').toMatchFileSnapshot('__snapshots__/route-table.txt');
  });
});
