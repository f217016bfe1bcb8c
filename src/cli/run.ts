/**
 * `checkout-engine run <files|dirs|globs>`: runs scenario files, prints a progress line per
 * scenario and a readable report (or JUnit XML), and exits non-zero when any scenario fails.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { expandScenarioPaths } from '../scenarios/loader.js';
import { junitReport, progressLine, textReport } from '../scenarios/report.js';
import { runScenarioFiles } from '../scenarios/runner.js';

/** Help of the run command. */
export const RUN_HELP = `Usage: checkout-engine run <scenario files, folders or globs> [options]

Runs scenario files (YAML): each on a fresh engine, several at once. Prints a progress line per
scenario, then every failure with its failing expectation and the session history. Exit code 0
when all pass, 1 when any fails, 2 on a usage error.

Options:
  --over <engine|http>   Call the engine directly (default) or through the REST API of an
                         in-process server on 127.0.0.1, port 0
  --db <dir|postgres://URL>
                         Default: SQLite in memory (a temp SQLite file for scenarios that restart
                         the engine). A folder: one fresh SQLite file per scenario, kept there. A
                         postgres:// URL: one fresh schema per scenario
  --reporter <text|junit>  Output format (default text)
  --output <file>        Write the report to this file instead of stdout
  --concurrency <n>      Scenarios run at once (default 4)
  --help                 This help`;

/** Runs the command; returns the exit code. */
export async function runCommand(args: string[], io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream }): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        over: { type: 'string' },
        db: { type: 'string' },
        reporter: { type: 'string' },
        output: { type: 'string' },
        concurrency: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    io.err.write(`checkout-engine run: ${(e as Error).message}\n\n${RUN_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) return io.out.write(`${RUN_HELP}\n`), 0;
  const usage = (msg: string) => (io.err.write(`checkout-engine run: ${msg}\n\n${RUN_HELP}\n`), 2);
  const over = values.over ?? 'engine';
  if (over !== 'engine' && over !== 'http') return usage(`--over must be engine or http, got '${over}'.`);
  const reporter = values.reporter ?? 'text';
  if (reporter !== 'text' && reporter !== 'junit') return usage(`--reporter must be text or junit, got '${reporter}'.`);
  if (values.concurrency !== undefined && !/^[1-9]\d*$/.test(values.concurrency)) return usage(`--concurrency must be a positive whole number, got '${values.concurrency}'.`);
  if (!positionals.length) return usage('name at least one scenario file, folder or glob.');
  const files = expandScenarioPaths(positionals);
  if (!files.length) return usage(`no scenario files match ${positionals.join(' ')}.`);
  const results = await runScenarioFiles(files, { over, db: values.db, concurrency: values.concurrency ? Number(values.concurrency) : 4 }, (r, done, total) =>
    io.err.write(`${progressLine(r, done, total)}\n`),
  );
  const report = reporter === 'junit' ? junitReport(results) : `${textReport(results)}\n`;
  if (values.output) writeFileSync(values.output, report);
  else io.out.write(report);
  return results.every((r) => r.passed) ? 0 : 1;
}
