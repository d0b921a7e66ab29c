import type { Database } from '../db/client.js';
import type { Source } from '../model/source.js';
import type { Topic } from '../model/topic.js';
import { positivePatterns } from '../topics/highlight.js';
import { parseQuery } from '../topics/query.js';
import type { TextPattern } from '../topics/regex.js';
import { compileTopics, topicMatcher } from '../topics/topics.js';
import { forEachRecentItem, type RecentItem } from './topics.js';

export interface TopicPreview {
  topic: Topic;
  days: number;
  scanned: number;
  /** Matching items, newest first (at most `limit`). */
  matches: RecentItem[];
  total: number;
  patterns: TextPattern[];
}

/** What a topic (configured, or a query being tried out) would hold among the items stored in the last `days`. */
export async function previewTopic(db: Database, sources: readonly Source[], topic: Topic, options: { days?: number; limit: number }): Promise<TopicPreview> {
  const [compiled] = compileTopics([topic], sources);
  const matcher = topicMatcher([compiled!], sources);
  const days = options.days ?? compiled!.backfillDays;
  const matches: RecentItem[] = [];
  let scanned = 0;
  await forEachRecentItem(db, new Date(Date.now() - days * 86_400_000), (page) => {
    scanned += page.length;
    for (const row of page) if (matcher.match(row, row.sourceId).length > 0) matches.push(row);
  });
  matches.sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
  const patterns = [...positivePatterns(parseQuery(topic.query))];
  return { topic, days, scanned, matches: matches.slice(0, options.limit), total: matches.length, patterns };
}
