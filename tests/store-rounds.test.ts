/** How the store step splits a batch into rounds of statements: by item count, and by the text the items carry. */
import { describe, expect, it } from 'vitest';
import type { NormalizedItem } from '../src/model/item.js';
import { storeRounds } from '../src/worker/store-step.js';

/** An item whose title, summary, HTML and text together hold `chars` characters (weight: chars + 1,024). */
const item = (id: string, chars = 0): NormalizedItem => ({
  url: `https://outlet.example/${id}`,
  title: id,
  contentText: 'x'.repeat(Math.max(0, chars - id.length)),
  categories: [],
  publishedAt: new Date(0),
  dateEstimated: false,
});
/** The item with HTML that holds its text: the text is the HTML's own. */
const asHtml = (entry: NormalizedItem): NormalizedItem => ({ ...entry, contentHtml: entry.contentText, textFromHtml: true });
const items = (prefix: string, count: number, chars = 0) => Array.from({ length: count }, (_, index) => item(`${prefix}${index}`, chars));
/** Each round as "job:first-last" pieces of item titles. */
const shape = (rounds: ReturnType<typeof storeRounds>) =>
  rounds.map((round) => round.map(({ job, items: piece }) => `${job}:${piece.length ? `${piece[0]!.title}-${piece.at(-1)!.title}` : 'none'}`).join(' '));

describe('store rounds', () => {
  const limits = { items: 4, chars: 10_000 };
  it.each([
    ['nothing', [], ['']],
    ['a job without items still takes part', [[]], ['0:none']],
    ['small jobs share a round', [items('a', 2), items('b', 2)], ['0:a0-a1 1:b0-b1']],
    ['a round ends at the item limit, splitting a job', [items('a', 3), items('b', 3)], ['0:a0-a2 1:b0-b0', '1:b1-b2']],
    ['a long job takes several rounds', [items('a', 9)], ['0:a0-a3', '0:a4-a7', '0:a8-a8']],
    ['heavy items make rounds of fewer items', [items('a', 5, 3_000)], ['0:a0-a1', '0:a2-a3', '0:a4-a4']],
    ['an item heavier than a round is a round of its own', [[item('s1'), item('huge', 50_000), item('s2')]], ['0:s1-s1', '0:huge-huge', '0:s2-s2']],
    ['an empty job between others stays in order', [items('a', 4), [], items('b', 1)], ['0:a0-a3 1:none', '2:b0-b0']],
    // 3,000 characters of HTML whose text is its own: the text is not sent, so only the HTML weighs.
    ['a text kept as its HTML weighs once', [items('a', 5, 3_000).map(asHtml)], ['0:a0-a1', '0:a2-a3', '0:a4-a4']],
    [
      'a text beside its HTML weighs twice',
      [items('a', 5, 3_000).map((entry) => ({ ...asHtml(entry), textFromHtml: false }))],
      ['0:a0-a0', '0:a1-a1', '0:a2-a2', '0:a3-a3', '0:a4-a4'],
    ],
  ])('%s', (_name, jobs, expected) => {
    expect(
      shape(
        storeRounds(
          jobs.map((jobItems) => ({ items: jobItems })),
          limits,
        ),
      ),
    ).toEqual(expected);
  });

  it('keeps every item once, in order, whatever the weights', () => {
    const jobs = [items('a', 700, 100), items('b', 3, 600_000), items('c', 1200, 10)].map((jobItems) => ({ items: jobItems }));
    const rounds = storeRounds(jobs);
    const flat = rounds.flat().flatMap(({ job, items: piece }) => piece.map((entry) => `${job}${entry.title}`));
    expect(flat).toEqual(jobs.flatMap(({ items: jobItems }, job) => jobItems.map((entry) => `${job}${entry.title}`)));
    for (const round of rounds) {
      const count = round.reduce((sum, { items: piece }) => sum + piece.length, 0);
      expect(count).toBeLessThanOrEqual(500);
      const chars = round.flatMap(({ items: piece }) => piece).reduce((sum, entry) => sum + 1024 + entry.title.length + (entry.contentText?.length ?? 0), 0);
      if (count > 1) expect(chars).toBeLessThanOrEqual(1_000_000);
    }
  });
});
