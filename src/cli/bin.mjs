#!/usr/bin/env node
// The `checkout-engine` executable. In a source checkout (a fresh clone after `npm ci`) it runs the
// TypeScript CLI through tsx, so no build step is needed; in a built package it runs dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// `--version` answers without loading TypeScript support or the CLI (package.json two folders up).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const pkg = JSON.parse(readFileSync(join(here, '../../package.json'), 'utf8'));
  process.stdout.write(`checkout-engine ${pkg.version}\n`);
  process.exit(0);
}
const source = join(here, 'main.ts');
const built = join(here, '../../dist/src/cli/main.js');

let mod;
let tsx;
if (existsSync(source)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    tsx = undefined;
  }
}
if (tsx) {
  tsx.register();
  mod = await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  process.stderr.write('checkout-engine: run `npm ci` (development) or `npm run build` first.\n');
  process.exit(1);
}
const code = await mod.main(args);
process.exitCode = code;
process.exit(code);
