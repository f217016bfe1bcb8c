/**
 * Regenerates the README's error table and key-prefix table from the code (src/errors.ts,
 * src/domain/objects.ts) and the access matrix (test/security/access-matrix.ts, which
 * test/security/access-matrix.test.ts proves over HTTP), between their `<!-- …:start -->` /
 * `<!-- …:end -->` markers.
 * Run: npx tsx scripts/readme-tables.ts (test/readme.test.ts fails when the README is stale).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../src/errors.js';
import { OBJECTS } from '../src/domain/objects.js';
import { renderAccessMatrix } from '../test/security/access-matrix.js';

/** The generated markdown for each marker. */
export function readmeTables(): Record<string, string> {
  const errors = ['| Key | errorCode | HTTP | Message |', '|---|---|---|---|'];
  for (const [k, v] of Object.entries(ERRORS)) errors.push(`| ${k} | ${v.code} | ${v.status} | ${v.message.replace(/\|/g, '\\|')} |`);
  const prefixes = ['| Object | Key prefix | Salesforce’s own prefix? |', '|---|---|---|'];
  for (const o of OBJECTS.values()) prefixes.push(`| ${o.name} | \`${o.keyPrefix}\` | ${o.realPrefix ? 'yes' : 'no (engine-assigned)'} |`);
  return { errors: errors.join('\n'), prefixes: prefixes.join('\n'), 'access-matrix': renderAccessMatrix() };
}

/** The README text with every generated block replaced. */
export function renderReadme(text: string): string {
  let out = text;
  for (const [name, block] of Object.entries(readmeTables())) {
    out = out.replace(new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`), `<!-- ${name}:start -->\n${block}\n<!-- ${name}:end -->`);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const path = fileURLToPath(new URL('../README.md', import.meta.url));
  writeFileSync(path, renderReadme(readFileSync(path, 'utf8')));
}
