/**
 * What `sources reload` does with each stored item, without I/O: which pages it reads (short items, or all with
 * --all; never one without a page or stored under a key its fields no longer give) and what a page's article does
 * to the item.
 */
import { describe, expect, it } from 'vitest';
import { itemKey } from '../src/dedup/key.js';
import type { NormalizedItem } from '../src/model/item.js';
import type { Article } from '../src/normalize/article.js';
import { reloadOutcome, skipReason } from '../src/worker/reload.js';

const LINE = 'The Bank of Japan kept its policy rate unchanged.';
const item = (fields: Partial<NormalizedItem> = {}): NormalizedItem => ({
  url: 'https://jen.jiji.com/jc/eng?g=eco&k=2024061400512',
  title: 'BOJ Keeps Policy Rate Unchanged',
  summary: LINE,
  contentText: LINE,
  categories: [],
  publishedAt: new Date('2024-06-14T03:00:00Z'),
  dateEstimated: false,
  ...fields,
});
const article = (chars: number, html = `<p>${'x'.repeat(chars)}</p>`): Article => ({ text: 'x'.repeat(chars), html });

describe('which stored items are read again', () => {
  const kept = (fields: Partial<NormalizedItem>, key?: string) => {
    const shown = item(fields);
    return { id: 1, dedupKey: key ?? itemKey(shown, 'jiji'), contentHash: 'stored', item: shown };
  };
  it.each([
    ['a short item', {}, undefined, false, undefined],
    ['a short item, with --all', {}, undefined, true, undefined],
    ['an item whose text is not short', { contentText: 'y'.repeat(700) }, undefined, false, 'not-short'],
    ['an item whose text is not short, with --all', { contentText: 'y'.repeat(700) }, undefined, true, undefined],
    ['an item without a link', { url: undefined, guid: 'jiji:512' }, undefined, true, 'no-page'],
    ['an item linking no web page', { url: 'ftp://jiji.example/512' }, undefined, true, 'no-page'],
    ['an item stored under a key its link no longer gives', {}, 'url:https://jen.jiji.com/jc/eng?k=2024061400512', true, 'moved'],
  ] as const)('%s: %s', (_name, fields, key, all, expected) => {
    expect(skipReason(kept(fields, key), 'jiji', all)).toBe(expected);
  });
});

describe("what a page's article does to a stored item", () => {
  const MAX = 256 * 1024;
  it.each([
    ['no article on the page', item(), undefined, false, 'no-article'],
    ['an article longer than the short text', item(), article(400), false, 'revised'],
    ['an article no longer than the short text', item(), article(LINE.length), false, 'no-article'],
    ['an article larger than an item may be', item(), article(400, `<p>${'x'.repeat(MAX)}</p>`), false, 'no-article'],
    ['the article stored, by its text', item({ contentText: 'x'.repeat(900) }), article(900, '<p>other markup</p>'), true, 'unchanged'],
    ['the article stored, by its HTML', item({ contentHtml: '<p>same</p>', contentText: 'old text' }), article(900, '<p>same</p>'), true, 'unchanged'],
    ['a shorter article over a stored one, read without --all', item({ contentText: 'y'.repeat(900) }), article(500), false, 'no-article'],
    ['a shorter article over a stored one, with --all', item({ contentText: 'y'.repeat(900) }), article(500), true, 'revised'],
    ['with --all, an article no longer than the summary', item({ contentText: 'y'.repeat(900) }), article(LINE.length), true, 'no-article'],
  ] as const)('%s: %s', (_name, stored, found, all, expected) => {
    expect(reloadOutcome(stored, found, all, MAX)).toBe(expected);
  });
});
