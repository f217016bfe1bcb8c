/**
 * `checkout-engine viz --flows`: a store's own Flow metadata printed as Mermaid from its element
 * graph; several flows need --flow; a flow the engine would refuse to run is still drawn, with its
 * issues on stderr; unreadable input is refused with a clear message.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main, type CliIO } from '../../src/cli/main.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/flows', import.meta.url));
const GIFT = fileURLToPath(new URL('../../scenarios/library/flows-metadata', import.meta.url));

function io() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CHECKOUT_ENGINE_DB;
  const value: CliIO = { out, err, env };
  return { io: value, out: () => o, err: () => e };
}

describe('checkout-engine viz --flows', () => {
  it('prints the one flow of a folder, decisions by outcome label', async () => {
    const t = io();
    expect(await main(['viz', '--flows', GIFT], t.io, false)).toBe(0);
    expect(t.out()).toMatch(/^stateDiagram-v2\n/);
    expect(t.out()).toContain('Wrap_Decision --> Ask_Message : Gift wrap');
    expect(t.out()).toContain('Confirm --> [*] : finish');
    expect(t.err()).toBe('');
  });

  it('needs --flow when the files hold several flows, and draws the one named', async () => {
    const several = io();
    expect(await main(['viz', '--flows', FIXTURES], several.io, false)).toBe(2);
    expect(several.err()).toContain('pick one with --flow: Viz_Lines, Viz_Tally');
    const t = io();
    expect(await main(['viz', '--flows', FIXTURES, '--flow', 'Viz_Lines'], t.io, false)).toBe(0);
    expect(t.out()).toContain('Get_Items --> Lookup_Failed : fault');
    expect(t.out()).toContain('state "Tally lines (subflow · Viz_Tally)" as Tally');
    const typo = io();
    expect(await main(['viz', '--flows', FIXTURES, '--flow', 'Viz_Line'], typo.io, false)).toBe(2);
    expect(typo.err()).toContain("No flow 'Viz_Line'");
    expect(typo.err()).toContain('Viz_Lines');
  });

  it('draws a flow the engine would refuse (no stand-in for its Apex class), listing the issue on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'viz-flows-'));
    const xml = readFileSync(join(FIXTURES, 'Viz_Lines.flow-meta.xml'), 'utf8').replace(
      '<actionName>priceCart</actionName>\n        <actionType>priceCart</actionType>',
      '<actionName>StoreOnlyPricing</actionName>\n        <actionType>apex</actionType>',
    );
    writeFileSync(join(dir, 'Viz_Lines.flow-meta.xml'), xml);
    writeFileSync(join(dir, 'Viz_Tally.flow-meta.xml'), readFileSync(join(FIXTURES, 'Viz_Tally.flow-meta.xml')));
    const t = io();
    expect(await main(['viz', '--flows', dir, '--flow', 'Viz_Lines'], t.io, false)).toBe(0);
    expect(t.out()).toContain('state "Price the cart (actionCall · apex StoreOnlyPricing)" as Price_Cart');
    expect(t.err()).toContain('Viz_Lines: drawn as written, but the engine would refuse to run it');
    expect(t.err()).toContain('Price_Cart');
    expect(t.err()).toContain('StoreOnlyPricing');
  });

  it('refuses a folder without flows and --file with --flows', async () => {
    const empty = io();
    expect(await main(['viz', '--flows', mkdtempSync(join(tmpdir(), 'viz-none-'))], empty.io, false)).not.toBe(0);
    expect(empty.err()).toMatch(/No flow in .* could be read/);
    const both = io();
    expect(await main(['viz', '--flows', GIFT, '--file', 'x.yaml'], both.io, false)).toBe(2);
    expect(both.err()).toContain('Pass --flows or --file, not both.');
  });
});
