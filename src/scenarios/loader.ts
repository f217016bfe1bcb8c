/**
 * Reads scenario files: YAML parsed with its source positions, validated with the zod schema, each
 * problem reported with the file, line, column and field path it concerns.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { EngineError } from '../errors.js';
import { Scenario, STEP_KINDS, STEP_SCHEMAS, type ScenarioDoc } from './schema.js';

/** One problem of a scenario file. */
export interface ScenarioProblem {
  file: string;
  line: number;
  column: number;
  /** Field path, e.g. `steps[2].expect.error.code`. */
  field: string;
  message: string;
}

/** A scenario file that didn't load; `problems` name file, line and field. */
export class ScenarioFileError extends EngineError {
  constructor(readonly problems: ScenarioProblem[]) {
    super(
      'INVALID_SCENARIO',
      problems.map(formatProblem).join('\n'),
      problems.map((p) => p.field),
    );
    this.name = 'ScenarioFileError';
  }
}

/** `file:line:column: field: message`. */
export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.field || '(file)'}: ${p.message}`;
}

/** A loaded scenario. */
export interface LoadedScenario {
  file: string;
  doc: ScenarioDoc;
  /** The line of each step, for reports. */
  stepLines: number[];
}

const pathText = (path: readonly PropertyKey[]) =>
  path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');

/** Parses and validates scenario text; `file` is used in messages. */
export function parseScenario(text: string, file: string): LoadedScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => lines.linePos(offset);
  const problems: ScenarioProblem[] = [];
  for (const e of doc.errors) {
    const p = at(e.pos[0]);
    problems.push({ file, line: p.line, column: p.col, field: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new ScenarioFileError(problems);
  const value = doc.toJS() as unknown;
  const locate = (path: readonly PropertyKey[]) => position(doc, path, at);

  const report = (issues: z.core.$ZodIssue[], prefix: (string | number)[]) => {
    for (const issue of issues) {
      let path = [...prefix, ...(issue.path as (string | number)[])];
      let message = issue.message;
      if (issue.code === 'unrecognized_keys') {
        path = [...path, issue.keys[0]!];
        message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
      }
      const p = locate(path);
      problems.push({ file, line: p.line, column: p.col, field: pathText(path), message });
    }
  };

  // The steps are checked one by one against the schema of their kind, so a problem names the
  // step's own field rather than "no union member matched".
  const raw = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  const top = Scenario.extend({ steps: z.unknown() }).safeParse(value);
  if (!top.success) report(top.error.issues, []);
  if (raw && !Array.isArray(raw.steps)) {
    const p = locate(['steps']);
    problems.push({
      file,
      line: p.line,
      column: p.col,
      field: 'steps',
      message: raw.steps === undefined ? 'required: a list of steps' : 'must be a list of steps',
    });
  } else if (raw) {
    const steps = raw.steps as unknown[];
    if (!steps.length) {
      const p = locate(['steps']);
      problems.push({ file, line: p.line, column: p.col, field: 'steps', message: 'must list at least one step' });
    }
    steps.forEach((step, i) => {
      const kinds = step && typeof step === 'object' ? STEP_KINDS.filter((k) => k in (step as object)) : [];
      if (kinds.length !== 1) {
        const p = locate(['steps', i]);
        problems.push({
          file,
          line: p.line,
          column: p.col,
          field: `steps[${i}]`,
          message: kinds.length ? `a step does one thing; found ${kinds.join(' and ')}` : `a step needs one of: ${STEP_KINDS.join(', ')}`,
        });
        return;
      }
      const r = STEP_SCHEMAS[kinds[0]!].safeParse(step);
      if (!r.success) report(r.error.issues, ['steps', i]);
    });
  }
  if (problems.length) throw new ScenarioFileError(problems);
  const parsed = Scenario.parse(value);
  const stepLines = parsed.steps.map((_, i) => locate(['steps', i]).line);
  return { file, doc: parsed, stepLines };
}

/** The line and column of the deepest node of `path` that exists in the document. */
function position(doc: Document, path: readonly PropertyKey[], at: (o: number) => { line: number; col: number }) {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) {
      // For a key of a map, point at the key itself.
      if (n > 0 && n === path.length) {
        const parent = n > 0 ? doc.getIn(path.slice(0, n - 1) as unknown[], true) : doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((it) => isNode(it.key) && (it.key as { value?: unknown }).value === path[n - 1]);
          if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
        }
      }
      return at(node.range[0]);
    }
    if (n > 0) {
      const parent = doc.getIn(path.slice(0, n - 1) as unknown[], true);
      if (isMap(parent)) {
        const pair = parent.items.find((it) => isNode(it.key) && (it.key as { value?: unknown }).value === path[n - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
    }
  }
  return { line: 1, col: 1 };
}

/** Reads and validates a scenario file. */
export function loadScenario(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioFileError([
      {
        file,
        line: 1,
        column: 1,
        field: '',
        message: `can't read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      },
    ]);
  }
  return parseScenario(text, file);
}

/** The directory a scenario's relative paths (fixture files) are resolved against. */
export const scenarioDir = (file: string) => dirname(resolve(file));

/**
 * Expands files, directories (their *.yaml / *.yml files, recursively) and globs (tinyglobby:
 * `*`, `**` for any depth, `?`, `{a,b}`, `[abc]`; only *.yaml / *.yml files count) into a sorted
 * list of absolute scenario file paths. A plain path that doesn't exist is kept, so running it
 * reports the missing file.
 */
export function expandScenarioPaths(patterns: string[], cwd = process.cwd()): string[] {
  const out = new Set<string>();
  const isScenario = (f: string) => /\.ya?ml$/.test(f);
  const walk = (dir: string, acc: string[]) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, acc);
      else if (isScenario(e.name)) acc.push(p);
    }
    return acc;
  };
  for (const pattern of patterns) {
    const abs = resolve(cwd, pattern);
    const st = statSync(abs, { throwIfNoEntry: false });
    // An existing path is taken literally, even when its name has glob characters.
    if (st || !isDynamicPattern(pattern)) {
      if (st?.isDirectory()) walk(abs, []).forEach((f) => out.add(f));
      else out.add(abs);
      continue;
    }
    for (const f of globSync(pattern, { cwd, absolute: true, onlyFiles: true, expandDirectories: false }))
      if (isScenario(f)) out.add(resolve(f));
  }
  return [...out].sort();
}
