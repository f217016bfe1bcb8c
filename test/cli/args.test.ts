/**
 * The CLI's argument helpers, as pure functions: edit distance, "did you mean", option parsing
 * whose errors are usage errors with a hint, and the usage lines a usage error prints.
 */
import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, parseOptions, UsageError, usageLines, usageMessage } from '../../src/cli/args.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and neighbour swaps', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('serve', 'serve')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('sesions', 'sessions')).toBe(1); // insertion
    expect(editDistance('servee', 'serve')).toBe(1); // deletion
    expect(editDistance('--hots', '--host')).toBe(1); // swap
    expect(editDistance('--prot', '--port')).toBe(1); // swap
    expect(editDistance('demo', 'deno')).toBe(1); // substitution
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('abc', 'ca')).toBe(3); // optimal string alignment: no edit of a swapped pair
  });

  it('is symmetric', () => {
    for (const [a, b] of [
      ['inspect', 'inpsect'],
      ['viz', 'vis'],
      ['--log-level', '--loglevel'],
      ['run', 'sessions'],
    ] as const) {
      expect(editDistance(a, b)).toBe(editDistance(b, a));
    }
  });
});

describe('didYouMean', () => {
  const commands = ['serve', 'seed', 'sessions', 'inspect', 'viz', 'demo', 'run'];
  it('names the closest command or flag when it is a likely typo', () => {
    expect(didYouMean('sesions', commands)).toBe('sessions');
    expect(didYouMean('serv', commands)).toBe('serve');
    expect(didYouMean('inpsect', commands)).toBe('inspect');
    expect(didYouMean('SERVE', commands)).toBe('serve');
    expect(didYouMean('--prot', ['--db', '--help', '-h', '--port', '--host'])).toBe('--port');
    expect(didYouMean('--jsn', ['--db', '--all', '--json', '--limit'])).toBe('--json');
    expect(didYouMean('--trust-proxi', ['--trust-proxy', '--token-ttl'])).toBe('--trust-proxy');
  });

  it('stays quiet when nothing is close, and for one-letter guesses', () => {
    expect(didYouMean('launch', commands)).toBeUndefined();
    expect(didYouMean('x', commands)).toBeUndefined();
    expect(didYouMean('--bogus', ['--db', '--help', '--port'])).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });

  it('prefers the nearer candidate, then the earlier one', () => {
    expect(didYouMean('seedd', ['serve', 'seed'])).toBe('seed');
    expect(didYouMean('rum', ['run', 'rub'])).toBe('run');
  });
});

describe('parseOptions', () => {
  const options = { port: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  it('parses known options and positionals', () => {
    expect(parseOptions(['list', '--port', '8', '--json'], options)).toMatchObject({
      values: { port: '8', json: true },
      positionals: ['list'],
    });
  });

  it('an unknown option is a usage error naming the closest known one', () => {
    expect(() => parseOptions(['--prot', '8'], options)).toThrow(new UsageError("Unknown option '--prot' (did you mean --port?)."));
    expect(() => parseOptions(['--nothing-like-it'], options)).toThrow(new UsageError("Unknown option '--nothing-like-it'."));
    expect(() => parseOptions(['--port'], options)).toThrow(UsageError);
  });
});

describe('usage lines', () => {
  const help = 'Usage: tool sessions list [--json]\n       tool sessions show <id>\n\nLong description.\n\nOptions:\n  --json   JSON';
  it('are the Usage line and its indented continuation, nothing else of the help', () => {
    expect(usageLines(help)).toBe('Usage: tool sessions list [--json]\n       tool sessions show <id>');
    expect(usageLines('no usage here')).toBe('');
  });

  it('a usage error is one line of problem, the usage lines, and where the full help is', () => {
    expect(usageMessage('tool sessions', 'Bad thing.', help).split('\n')).toEqual([
      'tool sessions: Bad thing.',
      'Usage: tool sessions list [--json]',
      '       tool sessions show <id>',
      "Run 'tool sessions --help' for its options.",
    ]);
  });
});
