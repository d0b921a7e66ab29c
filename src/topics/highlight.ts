import { termPattern } from './match.js';
import type { QueryNode } from './query.js';
import { compileRegex, type TextPattern, trustedPattern } from './regex.js';

/** Patterns of the terms a query looks for (those under NOT excluded), for showing why an item matched. */
export function positivePatterns(node: QueryNode): TextPattern[] {
  switch (node.kind) {
    case 'term':
    case 'phrase':
      return [trustedPattern(new RegExp(termPattern(node.value, node.kind === 'term' && node.prefix).source, 'iu'))];
    case 'regex':
      return [compileRegex(node.pattern, node.flags)];
    case 'field':
      return positivePatterns(node.operand);
    case 'and':
    case 'or':
      return node.operands.flatMap(positivePatterns);
    default:
      return []; // not, since:
  }
}

/** Wraps every match of `patterns` in `text` with `mark`, merging overlaps. */
export function highlight(text: string, patterns: TextPattern[], mark: (match: string) => string): string {
  const ranges = patterns.flatMap((pattern) => pattern.ranges(text));
  if (ranges.length === 0) return text;
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  let output = '';
  let cursor = 0;
  for (const [start, end] of merged) {
    output += text.slice(cursor, start) + mark(text.slice(start, end));
    cursor = end;
  }
  return output + text.slice(cursor);
}

/** A window of `width` characters of `text` around its first highlighted match (or its start). */
export function snippet(text: string, patterns: TextPattern[], width = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const starts = patterns.map((pattern) => pattern.ranges(line)[0]?.[0] ?? -1).filter((start) => start >= 0);
  const first = starts.length ? Math.min(...starts) : -1;
  const start = Math.max(0, first - Math.floor(width / 3));
  const cut = line.slice(start, start + width);
  return `${start > 0 ? '…' : ''}${cut}${start + width < line.length ? '…' : ''}`;
}
