/**
 * `checkout-engine run <files|dirs|globs>`: runs scenario files, prints a progress line per
 * scenario and a readable report (or JUnit XML), and exits non-zero when any scenario fails.
 */
import { writeFileSync } from 'node:fs';
import { parseOptions, UsageError } from './args.js';

/** Help of the run command. */
export const RUN_HELP = `Usage: checkout-engine run <scenario files, folders or globs> [options]

Runs scenario files (YAML): each on a fresh engine, several at once. Prints a progress line per
scenario, then every failure with its failing expectation and the session history. Exit code 0
when all pass, 1 when any fails, 2 on a usage error.
Globs are expanded by the CLI (quote them): 'scenarios/**/*.yaml', 'scenarios/library/errors-*.yaml';
a folder runs every *.yaml / *.yml file under it.

Options:
  --over <engine|http>   Call the engine directly (default) or through the REST API of an
                         in-process server on 127.0.0.1, port 0
  --db <dir|postgres://URL>
                         Default: SQLite in memory (a temp SQLite file for scenarios that restart
                         the engine). A folder: one fresh SQLite file per scenario, kept there. A
                         postgres:// URL: one fresh schema per scenario (and one for its queue),
                         dropped after the scenario unless --keep
  --keep                 Keep the PostgreSQL schemas (their names are printed on the progress lines)
  --reporter <text|junit>  Output format (default text); JUnit has time= (seconds) on every element
  --output <file>        Write the report to this file instead of stdout
  --concurrency <n>      Scenarios run at once (default 4)
  --help                 This help`;

/** Runs the command; returns the exit code. Usage errors are thrown (UsageError) for the CLI to print. */
export async function runCommand(args: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    over: { type: 'string' },
    db: { type: 'string' },
    keep: { type: 'boolean' },
    reporter: { type: 'string' },
    output: { type: 'string' },
    concurrency: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return (io.out.write(`${RUN_HELP}\n`), 0);
  const over = values.over ?? 'engine';
  if (over !== 'engine' && over !== 'http') throw new UsageError(`--over must be engine or http, got '${over}'.`);
  const reporter = values.reporter ?? 'text';
  if (reporter !== 'text' && reporter !== 'junit') throw new UsageError(`--reporter must be text or junit, got '${reporter}'.`);
  if (values.concurrency !== undefined && !/^[1-9]\d*$/.test(values.concurrency))
    throw new UsageError(`--concurrency must be a positive whole number, got '${values.concurrency}'.`);
  const postgres = values.db !== undefined && /^postgres(ql)?:\/\//i.test(values.db);
  if (values.keep && !postgres)
    throw new UsageError('--keep applies to --db postgres://… (SQLite files in a --db folder are always kept).');
  if (!positionals.length) throw new UsageError('name at least one scenario file, folder or glob.');
  // The scenario code (engine, storage, Fastify) loads only now, so `run --help` stays fast.
  const [{ expandScenarioPaths }, { junitReport, progressLine, textReport }, { runScenarioFiles }] = await Promise.all([
    import('../scenarios/loader.js'),
    import('../scenarios/report.js'),
    import('../scenarios/scenario-runner.js'),
  ]);
  const files = expandScenarioPaths(positionals);
  if (!files.length) throw new UsageError(`no scenario files match ${positionals.join(' ')}.`);
  const started = performance.now();
  const results = await runScenarioFiles(
    files,
    { over, db: values.db, keep: values.keep === true, concurrency: values.concurrency ? Number(values.concurrency) : 4 },
    (r, done, total) => io.err.write(`${progressLine(r, done, total)}${values.keep && r.schema ? ` (schema ${r.schema})` : ''}\n`),
  );
  const report = reporter === 'junit' ? junitReport(results, process.cwd(), performance.now() - started) : `${textReport(results)}\n`;
  if (values.output) writeFileSync(values.output, report);
  else io.out.write(report);
  return results.every((r) => r.passed) ? 0 : 1;
}
