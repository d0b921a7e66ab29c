import type { Topic } from '../config/load.js';
import { compileQuery, matchDocument, type Matcher } from './match.js';

export interface CompiledTopic {
  slug: string;
  matches: Matcher;
}

/** The text of an item that topic queries search: title, summary and content. */
export interface MatchableItem {
  title: string;
  summary?: string | null;
  contentText?: string | null;
}

/** Compiles every topic's query once, at config load. */
export function compileTopics(topics: readonly Topic[]): CompiledTopic[] {
  return topics.map((topic) => ({ slug: topic.slug, matches: compileQuery(topic.query) }));
}

/** Slugs of the topics an item belongs to. */
export function matchingTopics(topics: readonly CompiledTopic[], item: MatchableItem): string[] {
  if (topics.length === 0) return [];
  const document = matchDocument([item.title, item.summary, item.contentText]);
  return topics.filter((topic) => topic.matches(document)).map((topic) => topic.slug);
}
