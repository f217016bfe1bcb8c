/**
 * `checkout-engine flow check` and `flow run` (src/cli/flow.ts), run in-process through `main`:
 * every load issue per file and element with exit code 1; a clean folder with exit code 0; a run
 * on the demo store from an answers file (a list, or a map by screen name) printing each screen
 * and the final status; usage errors with exit code 2.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { RunningServer } from '../../src/http/server.js';

const FIXTURES = fileURLToPath(new URL('../flows/fixtures/engine', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'checkout-flow-cli-'));

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString('utf8');
    cb();
  }
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = new Sink();
  const err = new Sink();
  const code = await main(args, { out, err, env: {} }, false);
  return { code, out: out.text, err: err.text };
}

describe('checkout-engine flow', () => {
  it('check prints every issue per file and element and exits 1', async () => {
    const r = await cli(['flow', 'check', join(FIXTURES, 'broken')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Broken_References.flow-meta.xml');
    expect(r.out).toContain('Not_Xml.flow-meta.xml');
    expect(r.out).toMatch(/Call_Missing.*NoSuchApexClass|NoSuchApexClass/);
    expect(r.out).toContain('Nowhere_Element');
    expect(r.out).toMatch(/\d+ issues? in 2 file/);
  });

  it('check of a clean folder exits 0 and names its flows', async () => {
    const r = await cli(['flow', 'check', join(FIXTURES, 'cli')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Cli_Checkout_Start');
  });

  it('run drives a flow on the demo store from a list of navigations, printing each screen and the end', async () => {
    const answers = join(dir, 'list.yaml');
    writeFileSync(answers, '- action: NEXT\n- action: FINISH\n');
    const r = await cli(['flow', 'run', join(FIXTURES, 'cli'), '--flow', 'Cli_Checkout_Start', '--answers', answers]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/interview 0Fo\w{15} of Cli_Checkout_Start/);
    expect(r.out).toContain('screen Welcome');
    expect(r.out).toContain('screen Confirm');
    expect(r.out).toContain('[Finished]');
    expect(r.out).toMatch(/outputs: \{"sessionId":"\w{18}"\}/);
  });

  it('run takes a map of screen name → answers (screens without outputs move on by themselves)', async () => {
    const answers = join(dir, 'map.json');
    writeFileSync(answers, JSON.stringify({ Welcome: {} }));
    const r = await cli(['flow', 'run', join(FIXTURES, 'cli'), '--flow', 'Cli_Checkout_Start', '--answers', answers]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('→ FINISH');
    expect(r.out).toContain('[Finished]');
  });

  it('run stops with exit code 1 when the answers run out', async () => {
    const answers = join(dir, 'short.yaml');
    writeFileSync(answers, '- action: NEXT\n');
    const r = await cli(['flow', 'run', join(FIXTURES, 'cli'), '--flow', 'Cli_Checkout_Start', '--answers', answers]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('no navigation for screen Confirm');
  });

  it('run refuses flows with issues (listing them), unknown flows and usage errors', async () => {
    const answers = join(dir, 'any.yaml');
    writeFileSync(answers, '[]');
    const broken = await cli(['flow', 'run', join(FIXTURES, 'broken'), '--flow', 'Broken_References', '--answers', answers]);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain('Nowhere_Element');
    const unknown = await cli(['flow', 'run', join(FIXTURES, 'cli'), '--flow', 'Nope', '--answers', answers]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('Nope');
    expect((await cli(['flow', 'run', join(FIXTURES, 'cli'), '--answers', answers])).code).toBe(2);
    expect((await cli(['flow', 'run', join(FIXTURES, 'cli'), '--flow', 'Cli_Checkout_Start'])).code).toBe(2);
    expect((await cli(['flow', 'lint', join(FIXTURES, 'cli')])).code).toBe(2);
    expect((await cli(['flow', 'check'])).code).toBe(2);
    const help = await cli(['flow', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('flow check');
  });

  it('serve --flows serves the flows as interviews; a folder with issues stops the start listing them', async () => {
    const out = new Sink();
    const err = new Sink();
    let server: RunningServer | undefined;
    const code = await main(
      ['serve', '--db', ':memory:', '--port', '0', '--demo', '--flows', join(FIXTURES, 'cli'), '--log-level', 'silent'],
      { out, err, env: {}, onServe: (s) => (server = s) },
      false,
    );
    expect(code).toBe(0);
    try {
      const login = await fetch(`${server!.url}/services/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: 'x',
          client_secret: 'y',
          username: 'buyer@acme.example',
          password: 'demo-password-1',
        }).toString(),
      });
      const { access_token } = (await login.json()) as { access_token: string };
      const cartId = /demo cart (\w{18})/.exec(out.text)?.[1];
      expect(cartId).toBeDefined();
      const res = await fetch(`${server!.url}/services/data/v62.0/flows/Cli_Checkout_Start/interviews`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { cartId } }),
      });
      expect(res.status).toBe(201);
      expect(((await res.json()) as { screen: { name: string } }).screen.name).toBe('Welcome');
    } finally {
      await server?.close();
    }
    const broken = await cli(['serve', '--db', ':memory:', '--port', '0', '--flows', join(FIXTURES, 'broken'), '--log-level', 'silent']);
    expect(broken.code).toBe(1);
    expect(broken.err).toContain('Nowhere_Element');
  });
});
