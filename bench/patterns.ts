/**
 * The patterns benchmark: every regular expression literal in src/, run on inputs built to make backtracking patterns
 * slow (long runs of one of a few dozen characters, with and without a prefix and a closing character), at 2,000 and
 * at 20,000 characters. A pattern linear in its input takes about 10x as long on the longer input; one that tries
 * every start of a long run takes 100x. Found this way: RSS author patterns that took 1.9 s on a 48 KB author.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import type { Figure } from './figures.js';

const SOURCE = join(import.meta.dirname, '../src');
const RUNS = [
  ' ',
  '@',
  'a',
  '0',
  '(',
  ')',
  ':',
  '.',
  '-',
  '<',
  '>',
  '&',
  '#',
  '/',
  '=',
  '"',
  "'",
  ',',
  'T',
  '\n',
  '\t',
  '年',
  '1 ',
  'a ',
  'a@',
  '1:',
  '<a',
  '&#',
  'ab ',
];
const FRAMES: Array<[string, string]> = [
  ['', ''],
  ['x', '!'],
  ['(', ''],
  ['a@', ''],
];
/** Slower than this at 20,000 characters, a pattern's growth is measured. */
const SCREEN_MS = 1;

interface Pattern {
  where: string;
  pattern: RegExp;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The regular expression literals of src/, each with its file and line. */
function patterns(): Pattern[] {
  const found: Pattern[] = [];
  for (const file of sourceFiles(SOURCE)) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const [, body, flags] = /^\/(.*)\/([a-z]*)$/s.exec(node.getText())!;
        const where = `src/${relative(SOURCE, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
        // Sticky and global flags make exec start where the last match ended: each input is read from its start.
        found.push({ where, pattern: new RegExp(body!, flags!.replace(/[gy]/g, '')) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

const inputs = (length: number) => RUNS.flatMap((run) => FRAMES.map(([before, after]) => before + run.repeat(Math.ceil(length / run.length)) + after));

/**
 * The slowest of the inputs for one pattern, in milliseconds: each input run until 2 ms have passed, three times, the
 * fastest of the three kept (a garbage collection's pause in one window would otherwise count as the pattern's).
 */
function slowest(pattern: RegExp, texts: string[]): number {
  let worst = 0;
  for (const text of texts) {
    let fastest = Number.POSITIVE_INFINITY;
    for (let window = 0; window < 3; window++) {
      let runs = 0;
      const started = performance.now();
      do {
        pattern.exec(text);
        runs++;
      } while (performance.now() - started < 2);
      fastest = Math.min(fastest, (performance.now() - started) / runs);
    }
    worst = Math.max(worst, fastest);
  }
  return worst;
}

export function patternsBench(progress: (line: string) => void): Figure[] {
  const all = patterns();
  const long = inputs(20_000);
  const short = inputs(2_000);
  // The baseline: a pattern that steps through each input once (none holds a "~"; a lone "~" V8 searches by skipping).
  const scanMs = slowest(/.~/s, long);
  progress(`patterns: ${all.length} regular expressions in src/; a linear scan of the inputs ${scanMs.toFixed(3)} ms`);
  let slowestFirst = { where: '', ms: 0 };
  let worst = { where: '', growth: 0 };
  for (const { where, pattern } of all) {
    const first = long.reduce((most, text) => {
      const started = performance.now();
      pattern.exec(text);
      return Math.max(most, performance.now() - started);
    }, 0);
    if (first < SCREEN_MS) {
      if (first > slowestFirst.ms) slowestFirst = { where: `${where} ${pattern}`, ms: first };
      continue;
    }
    // Timed again over 2 ms per input: one pass can take a garbage collection's pause.
    const ms = slowest(pattern, long);
    if (ms > slowestFirst.ms) slowestFirst = { where: `${where} ${pattern}`, ms };
    const growth = ms / slowest(pattern, short);
    progress(`patterns: ${where} ${pattern}: ${ms.toFixed(2)} ms at 20,000 characters, ${growth.toFixed(0)}x the time at 2,000`);
    if (growth > worst.growth) worst = { where: `${where} ${pattern}`, growth };
  }
  progress(`patterns: slowest ${slowestFirst.where}, ${slowestFirst.ms.toFixed(3)} ms`);
  if (!worst.where) progress(`patterns: none took ${SCREEN_MS} ms at 20,000 characters, so no growth was timed`);
  return [
    { benchmark: 'patterns', metric: 'regular expressions read', value: all.length, unit: 'patterns' },
    { benchmark: 'patterns', metric: 'linear scan of the inputs at 20,000 characters', value: scanMs, unit: 'ms' },
    {
      benchmark: 'patterns',
      metric: 'slowest pattern at 20,000 characters / linear scan',
      value: slowestFirst.ms / scanMs,
      unit: 'ratio',
      baseline: 'a pattern that steps once through the same inputs',
      headline: true,
    },
    ...(worst.where
      ? [
          {
            benchmark: 'patterns',
            metric: 'worst growth from 2,000 to 20,000 characters (10 linear, 100 quadratic)',
            value: worst.growth,
            unit: 'ratio',
            baseline: `the same pattern at 2,000 characters (patterns over ${SCREEN_MS} ms at 20,000)`,
            headline: true,
          },
        ]
      : []),
  ];
}
