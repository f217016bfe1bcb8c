/**
 * Argument handling shared by the CLI commands: option parsing whose errors are usage errors with a
 * "did you mean" hint, the one-line-plus-usage form of a usage error, and the closest-name search
 * behind the hints (pure functions). Light on purpose: `--help` and `--version` load only this,
 * the help texts and node built-ins.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage error: its message (one line) is printed with the command's usage lines, exit code 2. */
export class UsageError extends Error {}

/**
 * Optimal string alignment distance between two strings: insertions, deletions, substitutions and
 * transpositions of two neighbouring characters each cost 1 (`--prot` is one step from `--port`).
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `input` (case-insensitive), when it is close enough to be a likely typo:
 * at most a third of the candidate's length away (at least 1), and not farther than the input is
 * long (so `x` suggests nothing). Ties go to the earlier candidate. Undefined when none is close.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  const bare = (s: string) => s.replace(/^-+/, '');
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(lower, name.toLowerCase());
    const limit = Math.max(1, Math.floor(bare(name).length / 3));
    if (distance > limit || distance >= bare(input).length) continue;
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best?.name;
}

/** ` (did you mean X?)` when a candidate is close to `input`, else the empty string. */
export function hint(input: string, candidates: readonly string[]): string {
  const match = didYouMean(input, candidates);
  return match === undefined ? '' : ` (did you mean ${match}?)`;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `parseArgs` (strict, positionals allowed) whose errors are usage errors; an unknown option names
 * the closest known one.
 */
export function parseOptions<O extends Options>(
  args: string[],
  options: O,
): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = /^Unknown option '([^']+)'/.exec(err.message);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
      const flag = unknown[1]!;
      const known = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
      throw new UsageError(`Unknown option '${flag}'${hint(flag, known)}.`);
    }
    throw new UsageError(err.message.replace(/\.?$/, '.'));
  }
}

/** The usage lines of a help text: its `Usage:` line and the indented lines right after it. */
export function usageLines(help: string): string {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Usage:'));
  if (start < 0) return '';
  let end = start + 1;
  while (end < lines.length && /^\s+\S/.test(lines[end]!)) end++;
  return lines.slice(start, end).join('\n');
}

/**
 * What a usage error prints: `<prog>: <problem>` on one line, the usage lines, and where the full
 * help is (`checkout-engine` for the command list, `checkout-engine <cmd>` for a command).
 */
export function usageMessage(prog: string, problem: string, help: string): string {
  const usage = usageLines(help);
  return `${prog}: ${problem}\n${usage ? `${usage}\n` : ''}Run '${prog} --help' for ${prog === 'checkout-engine' ? 'the commands' : 'its options'}.`;
}
