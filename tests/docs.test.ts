import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileQuery, matchDocument } from '../src/topics/match.js';

const queriesDoc = readFileSync(new URL('../docs/queries.md', import.meta.url), 'utf8');

/** Rows of the "Examples" table: query, a headline it matches, a headline it does not. */
function exampleRows(markdown: string): Array<[string, string, string]> {
  const section = markdown.split('## Examples')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [query, yes, no] = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
      return [query!.replace(/^`|`$/g, ''), yes!, no!];
    });
}

describe('docs/queries.md', () => {
  const rows = exampleRows(queriesDoc);

  it('has examples', () => expect(rows.length).toBeGreaterThanOrEqual(5));

  it.each(rows)('%s', (query, matching, notMatching) => {
    const matches = compileQuery(query);
    const headline = (title: string) => matchDocument({ title, publishedAt: new Date() });
    expect(matches(headline(matching))).toBe(true);
    expect(matches(headline(notMatching))).toBe(false);
  });

  it('every query in its syntax table parses', () => {
    const syntax = queriesDoc.split('## The language')[1]!.split('\n## ')[0]!;
    const snippets = [...syntax.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1]!).filter((snippet) => !snippet.includes('…'));
    expect(snippets.length).toBeGreaterThan(10);
    for (const snippet of snippets) expect(() => compileQuery(snippet), snippet).not.toThrow();
  });
});
