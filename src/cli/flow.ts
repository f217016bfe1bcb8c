/**
 * `checkout-engine flow check <paths…>` and `checkout-engine flow run <paths…> --flow <apiName>`:
 * load a store's Salesforce Flow metadata and print every issue per file and element, or run one
 * flow interview on the demo store, screen by screen, with the navigations of an answers file.
 * The engine loads only inside the command (so `--help` stays light).
 */
import { readFileSync } from 'node:fs';
import type { CheckoutEngine } from '../engine/engine.js';
import type { Interview, NavigateRequest } from '../engine/interviews.js';
import { EngineError } from '../errors.js';
import { parseOptions, UsageError } from './args.js';

/** Help of the flow command. */
export const FLOW_HELP = `Usage: checkout-engine flow check <flow files or folders…>
       checkout-engine flow run <flow files or folders…> --flow <apiName> --answers <file> [options]

check  Loads Salesforce Flow metadata (.flow-meta.xml files; a folder is read for them) against the
       engine's core actions and stand-ins, and prints every issue per file, flow and element.
       Exit code 0 when there is none, 1 when there is any.
run    Loads the flows (any issue stops it, listed), seeds the demo store (as 'demo' does) and starts
       the flow as the demo buyer with the cart as input 'cartId', then navigates with the answers
       file, printing each screen and the final status, redirect and outputs. Exit code 0 when the
       interview finished, 1 when it ended in Error or stopped without answers.

Answers file (YAML or JSON), either
  - a list of navigations, taken in order:   [{ action: NEXT, answers: { Field: { output: value } } }, …]
  - or a map screen name → answers:          { Delivery_Screen: { Field: { output: value } } }
    (NEXT, or FINISH where the screen has no NEXT; a value with 'action' is a whole navigation)

Options (run):
  --flow <apiName>      The flow to start
  --answers <file>      The answers file
  --cart <id>           A cart of --db to run on (its owner is the user); default: a new demo cart
  --input <name=value>  A further input variable (repeatable)
  --db <location>       Database (default: SQLite in memory)
  --wait-ms <n>         How long to wait on a Waiting screen each time (default 10000)
  --help                This help`;

const line = (s: NodeJS.WritableStream, text = '') => s.write(`${text}\n`);

/** An interview's screen, or its end, as text lines. */
export function formatInterview(iv: Interview): string[] {
  const out: string[] = [];
  if (iv.screen) {
    out.push(
      `[${iv.status}] screen ${iv.screen.name}${iv.screen.label ? ` "${iv.screen.label}"` : ''}  (${iv.screen.availableActions.join(', ') || 'no actions'})`,
    );
    for (const f of iv.screen.fields) {
      const inputs = Object.keys(f.inputs).length ? ` inputs=${JSON.stringify(f.inputs)}` : '';
      const outputs = f.outputNames.length ? ` outputs=${f.outputNames.join(',')}` : '';
      out.push(`    ${f.name} ${f.extensionName ?? f.fieldType}${inputs}${outputs}`);
    }
  } else {
    out.push(`[${iv.status}]`);
  }
  if (iv.redirect) out.push(`  redirect: ${iv.redirect.pageName}${iv.redirect.recordId ? ` ${iv.redirect.recordId}` : ''}`);
  if (iv.error) out.push(`  error: ${iv.error.message}`);
  if (iv.outputs) out.push(`  outputs: ${JSON.stringify(iv.outputs)}`);
  return out;
}

type Answers = NonNullable<NavigateRequest['answers']>;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The next navigation for a screen, from a list (in order) or a map by screen name. */
function nextNavigation(file: unknown, iv: Interview, taken: { n: number }, waitMs: number): NavigateRequest | undefined {
  if (iv.status === 'Waiting') return { action: 'NEXT', waitMs };
  const screen = iv.screen;
  if (!screen) return undefined;
  const dflt = screen.availableActions.includes('NEXT') ? 'NEXT' : 'FINISH';
  if (Array.isArray(file)) {
    const item = file[taken.n++];
    if (item === undefined) return undefined;
    if (!isObject(item)) throw new UsageError(`answers file: navigation ${taken.n} must be an object { action, answers }.`);
    return {
      action: (item.action as NavigateRequest['action']) ?? dflt,
      ...(item.answers !== undefined ? { answers: item.answers as Answers } : {}),
      ...(item.waitMs !== undefined ? { waitMs: item.waitMs as number } : {}),
    };
  }
  if (!isObject(file)) throw new UsageError('answers file: expected a list of navigations or a map of screen name → answers.');
  if (!(screen.name in file)) return screen.fields.some((f) => f.outputNames.length) ? undefined : { action: dflt };
  const entry = file[screen.name];
  if (isObject(entry) && typeof entry.action === 'string') return entry as unknown as NavigateRequest;
  return { action: dflt, ...(entry !== null && entry !== undefined ? { answers: entry as Answers } : {}) };
}

async function check(paths: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  const [{ createCheckoutEngine }, { formatIssue }] = await Promise.all([
    import('../engine/engine.js'),
    import('../engine/flow-loading.js'),
  ]);
  const engine = await createCheckoutEngine({ storage: ':memory:', worker: false, recover: false });
  try {
    const issues = await engine.checkFlows(paths);
    for (const i of issues) line(io.out, formatIssue(i));
    if (issues.length) {
      line(io.out, `${issues.length} issue${issues.length === 1 ? '' : 's'} in ${new Set(issues.map((i) => i.file)).size} file(s).`);
      return 1;
    }
    const names = await engine.loadFlows(paths);
    line(io.out, `No issues: ${names.length} flow${names.length === 1 ? '' : 's'} loadable (${names.join(', ')}).`);
    return 0;
  } finally {
    await engine.close();
  }
}

async function run(
  paths: string[],
  values: Record<string, unknown>,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  const flow = values.flow as string | undefined;
  if (!flow) throw new UsageError('flow run needs --flow <apiName>.');
  if (!values.answers) throw new UsageError('flow run needs --answers <file> (a list of navigations or a map screen name → answers).');
  const waitMs = values['wait-ms'] === undefined ? 10_000 : Number(values['wait-ms']);
  if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > 120_000)
    throw new UsageError('--wait-ms must be a whole number from 0 to 120000.');
  const inputs: Record<string, unknown> = {};
  for (const kv of (values.input as string[] | undefined) ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 1) throw new UsageError(`--input takes name=value, got '${kv}'.`);
    inputs[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  let text: string;
  try {
    text = readFileSync(String(values.answers), 'utf8');
  } catch (e) {
    throw new UsageError(
      `can't read the answers file '${String(values.answers)}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`,
    );
  }
  const [{ parse: parseYaml }, { createCheckoutEngine }, { demo }] = await Promise.all([
    import('yaml'),
    import('../engine/engine.js'),
    import('../demo/index.js'),
  ]);
  let file: unknown;
  try {
    file = parseYaml(text);
  } catch (e) {
    throw new UsageError(`the answers file isn't valid YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const engine: CheckoutEngine = await createCheckoutEngine({
    storage: (values.db as string | undefined) ?? ':memory:',
    flowSources: paths,
  });
  try {
    let userId: string;
    let cartId: string;
    if (values.cart !== undefined) {
      const cart = await engine.getRecord('WebCart', String(values.cart));
      cartId = String(cart.Id);
      userId = String(cart.OwnerId);
    } else {
      ({ buyerId: userId, cartId } = await demo.newCart(engine));
      line(io.out, `demo cart ${cartId} of buyer ${demo.users.buyer}`);
    }
    let iv = await engine.startInterview(flow, { cartId, ...inputs }, { userId });
    line(io.out, `interview ${iv.id} of ${iv.flowApiName}`);
    const taken = { n: 0 };
    for (let steps = 0; steps < 500; steps++) {
      for (const l of formatInterview(iv)) line(io.out, l);
      if (iv.status === 'Finished' || iv.status === 'Error') break;
      const nav = nextNavigation(file, iv, taken, waitMs);
      if (!nav) {
        line(io.out, `stopped: the answers file has no navigation for screen ${iv.screen?.name ?? '(none)'}.`);
        return 1;
      }
      line(io.out, `  → ${nav.action}${nav.answers ? ` ${JSON.stringify(nav.answers)}` : ''}`);
      iv = await engine.navigate(iv.id, nav, { userId });
    }
    return iv.status === 'Finished' ? 0 : 1;
  } finally {
    await engine.close();
  }
}

/** Runs `flow check` or `flow run`; returns the exit code. */
export async function flowCommand(args: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    flow: { type: 'string' },
    answers: { type: 'string' },
    cart: { type: 'string' },
    input: { type: 'string', multiple: true },
    db: { type: 'string' },
    'wait-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (line(io.out, FLOW_HELP), 0);
  const [sub, ...paths] = positionals;
  if (sub !== 'check' && sub !== 'run')
    throw new UsageError(sub ? `unknown flow subcommand '${sub}': use check or run.` : 'name a subcommand: check or run.');
  if (!paths.length) throw new UsageError(`flow ${sub} needs at least one flow file or folder.`);
  if (sub === 'check') {
    for (const k of ['flow', 'answers', 'cart', 'input', 'db', 'wait-ms'] as const)
      if (values[k] !== undefined) throw new UsageError(`--${k} applies to flow run, not flow check.`);
    return check(paths, io);
  }
  try {
    return await run(paths, values, io);
  } catch (e) {
    if (e instanceof EngineError && e.key === 'FLOW_LOAD_ERROR') {
      line(io.err, e.message);
      return 1;
    }
    throw e;
  }
}
