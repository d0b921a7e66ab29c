/**
 * Topic matching cost per item with 10, 100 and 1,000 topics, through the word index (TopicMatcher) against
 * evaluating every compiled topic on every item (the baseline). The headline is how much the cost per item grows
 * from 10 to 1,000 topics: far less than 100x when the index does its job.
 */

import type { NormalizedItem } from '../src/model/item.js';
import type { Topic } from '../src/model/topic.js';
import { matchDocument } from '../src/topics/match.js';
import { compileTopics, TopicMatcher } from '../src/topics/topics.js';
import { Corpus } from './corpus.js';
import type { Figure } from './figures.js';

/** Desk-style queries: a couple of anchor words, alternatives, an exclusion, now and then a field or a phrase. */
function topicsFor(corpus: Corpus, count: number): Topic[] {
  const word = () => corpus.sentence(1);
  const shapes = [
    () => `${word()} AND (${word()} OR ${word()} OR ${word()})`,
    () => `"${word()} ${word()}" OR ${word()}`,
    () => `title:${word()} -${word()}`,
    () => `(${word()} OR ${word()}) AND (${word()} OR ${word()}) -${word()}`,
  ];
  return Array.from({ length: count }, (_, index) => ({ slug: `t${index}`, title: `Topic ${index}`, query: shapes[index % shapes.length]!(), limit: 50 }));
}

function timePerItem(items: NormalizedItem[], run: (item: NormalizedItem) => void): number {
  for (const item of items.slice(0, 50)) run(item); // warm up
  const started = performance.now();
  for (const item of items) run(item);
  return ((performance.now() - started) * 1000) / items.length;
}

export function matchBench(topicCounts: number[], itemCount: number, progress: (line: string) => void): Figure[] {
  const corpus = new Corpus(7);
  const now = new Date();
  const items = Array.from({ length: itemCount }, (_, index) => corpus.story(index, now));
  const figures: Figure[] = [];
  const indexedCost: number[] = [];
  for (const count of topicCounts) {
    const compiled = compileTopics(topicsFor(corpus, count));
    const matcher = new TopicMatcher(compiled);
    let matchedIndexed = 0;
    let matchedAll = 0;
    const indexed = timePerItem(items, (item) => (matchedIndexed += matcher.match(item, 'bench', now).length));
    const everyTopic = timePerItem(items, (item) => {
      const document = matchDocument(item, ['bench']);
      for (const topic of compiled) if (topic.matches(document, 'bench', now)) matchedAll++;
    });
    if (matchedIndexed !== matchedAll) throw new Error(`index and full evaluation disagree: ${matchedIndexed} vs ${matchedAll} matches`);
    indexedCost.push(indexed);
    progress(`match: ${count} topics: ${indexed.toFixed(1)} µs per item indexed, ${everyTopic.toFixed(1)} µs evaluating all`);
    figures.push(
      { benchmark: 'match', metric: `per item, ${count} topics, word index`, value: indexed, unit: 'µs', size: count },
      { benchmark: 'match', metric: `per item, ${count} topics, every topic`, value: everyTopic, unit: 'µs', size: count },
      {
        benchmark: 'match',
        metric: `index speed-up, ${count} topics`,
        value: everyTopic / indexed,
        unit: 'x',
        baseline: 'every topic',
        headline: count === topicCounts.at(-1),
      },
    );
  }
  figures.push({
    benchmark: 'match',
    metric: `cost growth ${topicCounts[0]} -> ${topicCounts.at(-1)} topics (indexed)`,
    value: indexedCost.at(-1)! / indexedCost[0]!,
    unit: 'x',
    baseline: `${topicCounts.at(-1)! / topicCounts[0]!}x more topics`,
    headline: true,
  });
  return figures;
}
