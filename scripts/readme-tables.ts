/**
 * Regenerates the documentation's generated blocks from the code — the error table (docs/errors.md),
 * the key-prefix table (docs/records.md), the default-flow diagram (docs/flows.md), the completion
 * invariants (README, docs/guarantees.md) and the access matrix (docs/access-matrix.md; from test/security/access-matrix.ts, which test/security/access-matrix.test.ts proves
 * over HTTP) — between their `<!-- …:start -->` / `<!-- …:end -->` markers, in every page that has them.
 * Run: npx tsx scripts/readme-tables.ts (test/readme.test.ts fails when a page is stale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../src/errors.js';
import { OBJECTS } from '../src/domain/objects.js';
import { DEFAULT_FLOW } from '../src/domain/flow.js';
import { flowMermaid } from '../src/inspect/mermaid.js';
import { renderAccessMatrix } from '../test/security/access-matrix.js';
import { renderConnectAccessMatrix } from '../test/security/connect-access-matrix.js';
import { COMPLETION_INVARIANTS } from '../src/domain/completion-invariants.js';

/** The generated markdown for each marker. */
export function readmeTables(): Record<string, string> {
  const errors = ['| Key | errorCode | HTTP | Message |', '|---|---|---|---|'];
  for (const [k, v] of Object.entries(ERRORS)) errors.push(`| ${k} | ${v.code} | ${v.status} | ${v.message.replace(/\|/g, '\\|')} |`);
  const prefixes = ['| Object | Key prefix | Salesforce’s own prefix? |', '|---|---|---|'];
  for (const o of OBJECTS.values()) prefixes.push(`| ${o.name} | \`${o.keyPrefix}\` | ${o.realPrefix ? 'yes' : 'no (engine-assigned)'} |`);
  const flow = ['```mermaid', flowMermaid(DEFAULT_FLOW), '```'].join('\n');
  const invariants = ['| Id | Invariant | Checked at | errorCode |', '|---|---|---|---|'];
  for (const i of COMPLETION_INVARIANTS)
    invariants.push(`| \`${i.id}\` | ${i.name} | ${i.when.join(', ')} | \`${ERRORS[i.error].code}\` |`);
  return {
    'completion-invariants': invariants.join('\n'),
    errors: errors.join('\n'),
    prefixes: prefixes.join('\n'),
    'default-flow': flow,
    'access-matrix': renderAccessMatrix(),
    'connect-access-matrix': renderConnectAccessMatrix(),
  };
}

/** The pages that hold generated blocks (paths from the repository root). */
export const GENERATED_PAGES = [
  'README.md',
  'docs/errors.md',
  'docs/records.md',
  'docs/guarantees.md',
  'docs/flows.md',
  'docs/access-matrix.md',
];

/** A page's text with every generated block it holds replaced. */
export function renderReadme(text: string): string {
  let out = text;
  for (const [name, block] of Object.entries(readmeTables())) {
    out = out.replace(
      new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`),
      `<!-- ${name}:start -->\n${block}\n<!-- ${name}:end -->`,
    );
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const page of GENERATED_PAGES) {
    const path = fileURLToPath(new URL(`../${page}`, import.meta.url));
    writeFileSync(path, renderReadme(readFileSync(path, 'utf8')));
  }
}
