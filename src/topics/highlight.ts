import { termPattern } from './match.js';
import type { QueryNode } from './query.js';

/** Patterns of the terms a query looks for (those under NOT excluded), for showing why an item matched. */
export function positivePatterns(node: QueryNode): RegExp[] {
  switch (node.kind) {
    case 'term':
    case 'phrase':
      return [new RegExp(termPattern(node.value, node.kind === 'term' && node.prefix).source, 'giu')];
    case 'regex':
      return [new RegExp(node.pattern, `${node.flags}gu`)];
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
export function highlight(text: string, patterns: RegExp[], mark: (match: string) => string): string {
  const ranges: Array<[number, number]> = [];
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    for (const match of text.matchAll(pattern)) {
      if (match[0].length > 0) ranges.push([match.index!, match.index! + match[0].length]);
    }
  }
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
export function snippet(text: string, patterns: RegExp[], width = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  let first = -1;
  for (const pattern of patterns) {
    pattern.lastIndex = 0;
    const match = pattern.exec(line);
    if (match && (first < 0 || match.index < first)) first = match.index;
  }
  const start = Math.max(0, first - Math.floor(width / 3));
  const cut = line.slice(start, start + width);
  return `${start > 0 ? '…' : ''}${cut}${start + width < line.length ? '…' : ''}`;
}
