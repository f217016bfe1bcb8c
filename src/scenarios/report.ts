/** Reporters of scenario results: readable text (with the failing expectation and the session history) and JUnit XML for CI. */
import { relative } from 'node:path';
import type { ScenarioHistoryEntry, ScenarioResult } from './scenario-runner.js';

/** The progress line written while scenarios run: `[12/48] ✓ name`. */
export function progressLine(r: ScenarioResult, done: number, total: number, cwd = process.cwd()): string {
  return `[${done}/${total}] ${r.passed ? 'PASS' : 'FAIL'} ${relative(cwd, r.file)} — ${r.name}`;
}

/** The session history as a table, one row per observed change. */
export function historyTable(history: ScenarioHistoryEntry[]): string {
  if (!history.length) return '    (no checkout session was created)';
  return history
    .map(
      (h) =>
        `    after ${h.step < 0 ? 'fixture' : `step ${h.step + 1}`}: session ${h.sessionId} State=${h.State ?? '∅'} NextState=${h.NextState ?? '∅'} IsProcessing=${h.IsProcessing}` +
        `${h.IsError ? ' IsError' : ''}${h.IsArchived ? ' IsArchived' : ''}`,
    )
    .join('\n');
}

/** Readable text: one line per scenario, the failures in detail, and a summary. */
export function textReport(results: ScenarioResult[], cwd = process.cwd()): string {
  const out: string[] = [];
  for (const r of results) out.push(`${r.passed ? '  ✓' : '  ✗'} ${relative(cwd, r.file)} — ${r.name}`);
  const failed = results.filter((r) => !r.passed);
  for (const r of failed) {
    const f = r.failure!;
    out.push('', `FAIL ${relative(cwd, r.file)}:${f.line} — ${r.name}`);
    out.push(f.step < 0 ? `  ${f.label}:` : `  step ${f.step + 1} of ${r.stepCount} (${f.label}):`);
    for (const line of f.message.split('\n')) out.push(`    ${line}`);
    if (f.step >= 0) out.push('  session history:', historyTable(r.history));
  }
  out.push('', `${results.length - failed.length} passed, ${failed.length} failed, ${results.length} scenarios`);
  return out.join('\n');
}

// eslint-disable-next-line no-control-regex -- XML 1.0 forbids these control characters; the report drops them
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;
const xml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!).replace(XML_FORBIDDEN, '');

/** Seconds with millisecond precision, as JUnit's `time` attribute wants them. */
const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/**
 * JUnit XML: one testsuite, one testcase per scenario, a failure element with the message and
 * history; `time` (seconds) on each testcase, and on the testsuite and testsuites: `elapsedMs` (the
 * run's wall-clock time, smaller than the sum when scenarios run at once) or else the sum.
 */
export function junitReport(results: ScenarioResult[], cwd = process.cwd(), elapsedMs?: number): string {
  const failed = results.filter((r) => !r.passed).length;
  const total = seconds(elapsedMs ?? results.reduce((sum, r) => sum + (r.durationMs ?? 0), 0));
  const cases = results.map((r) => {
    const file = relative(cwd, r.file);
    const open = `  <testcase classname="${xml(file)}" name="${xml(r.name)}" file="${xml(file)}" time="${seconds(r.durationMs ?? 0)}">`;
    if (r.passed) return `${open}</testcase>`;
    const f = r.failure!;
    const body = `${f.message}\n\nsession history:\n${historyTable(r.history)}`;
    return `${open}\n    <failure message="${xml(`${f.label}: ${f.message.split('\n')[0]}`)}" type="ScenarioFailure">${xml(`${file}:${f.line}\n${body}`)}</failure>\n  </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="checkout-engine scenarios" tests="${results.length}" failures="${failed}" time="${total}">`,
    `<testsuite name="scenarios" tests="${results.length}" failures="${failed}" errors="0" skipped="0" time="${total}">`,
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
