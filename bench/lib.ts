/**
 * Shared pieces of the benchmark harness (bench/run.ts and the sections it runs): percentiles,
 * markdown tables, target checks, the machine description and child processes started with tsx.
 */
import { fork } from 'node:child_process';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';

/** The p-th percentile (nearest rank) of xs; NaN when xs is empty. */
export function pct(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** A number with `digits` decimals, or an em dash when it is not finite. */
/**
 * Runs the two sides of a ratio for run `i`, taking turns at going first (a on even runs, b on odd
 * ones), so a shared machine's load falls on both alike.
 */
export async function inTurns(i: number, a: () => unknown, b: () => unknown): Promise<void> {
  if (i % 2 === 0) {
    await a();
    await b();
  } else {
    await b();
    await a();
  }
}

export const fx = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');

/** A target check as printed in the tables. */
export const mark = (ok: boolean): string => (ok ? '✓' : '✗');

/** A markdown table (also readable in a terminal). */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (x: string, i: number) => (a[i] === 'r' ? x.padStart(widths[i]!) : x.padEnd(widths[i]!));
  const line = (r: readonly string[]) => `| ${r.map((x, i) => cell(x, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (a[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The machine a run happened on. */
export interface Machine {
  at: string;
  cores: number;
  cpu: string;
  node: string;
  platform: string;
  memGiB: number;
  freeMemGiB: number;
  loadavg: [number, number, number];
}

/** Describes this machine now (load average included: runs on a shared machine are noisy). */
export function machine(): Machine {
  const [l1, l5, l15] = loadavg();
  return {
    at: new Date().toISOString(),
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    node: process.version,
    platform: `${platform()} ${release()}`,
    memGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    freeMemGiB: Number((freemem() / 2 ** 30).toFixed(1)),
    loadavg: [Number(l1!.toFixed(2)), Number(l5!.toFixed(2)), Number(l15!.toFixed(2))],
  };
}

/** One line describing the machine. */
export const machineLine = (m: Machine): string =>
  `${m.cores} cores (${m.cpu}), Node ${m.node}, ${m.platform}, ${m.memGiB} GiB RAM, load average ${m.loadavg.join(' / ')} at ${m.at.slice(0, 19).replace('T', ' ')} UTC`;

/** A check against a target, kept in results.json. */
export interface Check {
  what: string;
  value: number;
  target: string;
  ok: boolean;
}

/** What every section returns to bench/run.ts. */
export interface SectionResult {
  /** The printed tables (markdown). */
  text: string;
  checks: Check[];
  /** Machine-readable numbers for bench/results.json. */
  data: unknown;
  seconds?: number;
}

/** Options every section takes. */
export interface SectionOptions {
  quick: boolean;
  log: (line: string) => void;
}

/**
 * Runs a TypeScript module in a child Node process (through tsx) and resolves with the first
 * message it sends over IPC; rejects when it exits before sending one.
 */
export function runChild<T>(
  modulePath: string,
  args: string[],
  opts: { execArgv?: string[]; env?: Record<string, string> } = {},
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(modulePath, args, {
      execArgv: [...(opts.execArgv ?? []), '--import', 'tsx'],
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let done = false;
    child.once('message', (m) => {
      done = true;
      resolve(m as T);
      child.disconnect();
    });
    child.once('error', (e) => {
      if (!done) reject(e);
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${modulePath} exited with ${code} before reporting`));
    });
  });
}

/** True when this module is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const here = new URL(metaUrl).pathname;
  return here === entry || here === `${entry}.ts` || here.replace(/\.ts$/, '') === entry;
}
