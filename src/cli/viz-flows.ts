/**
 * `checkout-engine viz --flows <path…> [--flow <apiName>]`: a store's own Flow metadata printed as
 * a Mermaid stateDiagram-v2, drawn from the flow's element graph (src/inspect/flow-graph.ts). The
 * files are checked as `flow check` does (against an in-memory engine's core actions and
 * stand-ins); a flow the engine would refuse to run is still drawn when it parses, and every issue
 * is printed on stderr, so a flow can be seen before it runs.
 */
import { readFile } from 'node:fs/promises';
import { EngineError } from '../errors.js';
import type { FlowDefinition } from '../flows/metadata.js';
import { hint, UsageError } from './args.js';

const line = (s: NodeJS.WritableStream, text = '') => s.write(`${text}\n`);

/** Prints the chosen flow of `paths` as Mermaid on `out`; load issues go to `err`. Returns the exit code. */
export async function vizFlowFiles(
  paths: string[],
  flow: string | undefined,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const [{ createCheckoutEngine }, { builtinFlows }, { loadFlowSources, formatIssue, parseFlowXml }, { flowMetadataMermaid }] =
    await Promise.all([
      import('../engine/engine.js'),
      import('../engine/flow-loading.js'),
      import('../flows/load.js'),
      import('../inspect/mermaid.js'),
    ]);
  const engine = await createCheckoutEngine({ storage: ':memory:', worker: false });
  let loaded: Awaited<ReturnType<typeof loadFlowSources>>;
  try {
    loaded = await loadFlowSources(paths, engine.flowRegistry(), builtinFlows());
  } finally {
    await engine.close();
  }
  const builtin = new Set(builtinFlows().map((d) => d.apiName));
  const own = loaded.definitions.filter((d) => !builtin.has(d.apiName));
  // A flow with issues of its own isn't among the runnable definitions: parse its file again to draw it.
  const broken = new Map<string, string>();
  for (const i of loaded.issues) if (i.flow && !builtin.has(i.flow) && !own.some((d) => d.apiName === i.flow)) broken.set(i.flow, i.file);
  const names = [...new Set([...own.map((d) => d.apiName), ...broken.keys()])].sort();
  if (!names.length) {
    for (const i of loaded.issues) line(err, formatIssue(i));
    throw new EngineError(
      'FLOW_LOAD_ERROR',
      `No flow in ${paths.join(', ')} could be read${loaded.issues.length ? ' (the issues are listed above)' : ''}.`,
      ['flows'],
    );
  }
  const name = flow ?? (names.length === 1 ? names[0]! : undefined);
  if (!name)
    throw new UsageError(
      `${paths.join(', ')} hold${paths.length === 1 ? 's' : ''} ${names.length} flows; pick one with --flow: ${names.join(', ')}.`,
    );
  let def: FlowDefinition | null | undefined = own.find((d) => d.apiName === name);
  if (!def && broken.has(name)) def = parseFlowXml(await readFile(broken.get(name)!, 'utf8'), broken.get(name)!).definition;
  if (!def) throw new UsageError(`No flow '${name}' in ${paths.join(', ')}${hint(name, names)}; flows: ${names.join(', ')}.`);
  const mine = loaded.issues.filter((i) => i.flow === name || (!i.flow && i.file === def!.source));
  if (mine.length) {
    line(err, `${name}: drawn as written, but the engine would refuse to run it (${mine.length} issue${mine.length === 1 ? '' : 's'}):`);
    for (const i of mine) line(err, `  ${formatIssue(i)}`);
  }
  line(out, flowMetadataMermaid(def));
  return 0;
}
