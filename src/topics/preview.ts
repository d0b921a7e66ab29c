import type { App } from '../app.js';
import type { Topic } from '../config/load.js';
import { forEachRecentItem, type RecentItem } from '../store/topics.js';
import { positivePatterns } from './highlight.js';
import { parseQuery } from './query.js';
import type { TextPattern } from './regex.js';
import { compileTopics, topicMatcher } from './topics.js';

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
export async function previewTopic(app: App, topic: Topic, options: { days?: number; limit: number }): Promise<TopicPreview> {
  const [compiled] = compileTopics([topic], app.config.sources);
  const matcher = topicMatcher([compiled!], app.config.sources);
  const days = options.days ?? compiled!.backfillDays;
  const matches: RecentItem[] = [];
  let scanned = 0;
  await forEachRecentItem(app.database.db, new Date(Date.now() - days * 86_400_000), (page) => {
    scanned += page.length;
    for (const row of page) if (matcher.match(row, row.sourceId).length > 0) matches.push(row);
  });
  matches.sort((a, b) => b.publishedAt.getTime() - a.publishedAt.getTime());
  const patterns = [...positivePatterns(parseQuery(topic.query))];
  return { topic, days, scanned, matches: matches.slice(0, options.limit), total: matches.length, patterns };
}
