import { createHash } from 'node:crypto';
import { words } from '../dedup/fingerprint.js';
import type { Source } from '../model/source.js';
import type { Topic } from '../model/topic.js';
import { primaryLanguage } from '../normalize/language.js';
import { bestClause, compileQuery, type MatchableItem, type MatchDocument, type Matcher, matchDocument, requiredClauses } from './match.js';
import { parseQuery } from './query.js';

export interface CompiledTopic {
  slug: string;
  /** Changes whenever anything that decides membership changes: then the topic is backfilled. */
  definitionHash: string;
  backfillDays: number;
  matches: (document: MatchDocument, sourceId: string, now?: Date) => boolean;
  /** Word clauses an item must satisfy (a word of each) to possibly match (undefined: always evaluate). */
  requiredClauses?: Array<Set<string>>;
}

export const DEFAULT_BACKFILL_DAYS = 30;

/** What decides a topic's membership, as a stable hash. */
export function topicDefinitionHash(topic: Topic): string {
  const definition = { query: topic.query, exclude: topic.exclude ?? null, sources: topic.sources ?? null, language: topic.language ?? null };
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16);
}

/** Compiles every topic once, at config load: its query, exclude query, source and language restrictions. */
export function compileTopics(topics: readonly Topic[], sources: readonly Source[] = []): CompiledTopic[] {
  const tagsOf = new Map(sources.map((source) => [source.id, new Set([source.id, ...source.tags])]));
  return topics.map((topic) => {
    const ast = parseQuery(topic.query);
    const query: Matcher = compileQuery(ast);
    const exclude: Matcher | undefined = topic.exclude ? compileQuery(topic.exclude) : undefined;
    const allowedSources = topic.sources ? new Set(topic.sources) : undefined;
    const languages = topic.language?.map((language) => language.toLowerCase());
    return {
      slug: topic.slug,
      definitionHash: topicDefinitionHash(topic),
      backfillDays: topic.backfillDays ?? DEFAULT_BACKFILL_DAYS,
      requiredClauses: requiredClauses(ast, words),
      matches: (document, sourceId, now) => {
        if (allowedSources) {
          const names = tagsOf.get(sourceId) ?? new Set([sourceId]);
          if (![...names].some((name) => allowedSources.has(name))) return false;
        }
        if (languages) {
          const language = primaryLanguage(document.fields.lang.raw) ?? document.fields.lang.raw.toLowerCase();
          if (!languages.includes(language)) return false;
        }
        return query(document, now) && !(exclude?.(document, now) ?? false);
      },
    };
  });
}

/** Below this many topics, splitting the item into words costs more than testing every topic. */
const INDEX_MIN_TOPICS = 24;

/**
 * Matches items against many topics: compiled once, with an index from required words to topics so that an item is
 * only looked at by the topics whose words it contains (plus those that cannot be indexed), and a check of every
 * required clause against the item's word set before any pattern runs. Cost per item grows with the topics an item
 * could match, not with the number of topics. It also holds the sources' own `keep` and `exclude` queries, which
 * decide whether an item is stored at all.
 */
export class TopicMatcher {
  private readonly byWord = new Map<string, CompiledTopic[]>();
  private readonly unindexed: CompiledTopic[] = [];

  constructor(
    readonly topics: readonly CompiledTopic[],
    private readonly sourceNames: (sourceId: string) => readonly string[] = (sourceId) => [sourceId],
    private readonly sourceFilters: ReadonlyMap<string, Matcher> = new Map(),
  ) {
    for (const topic of topics) {
      if (!topic.requiredClauses) {
        this.unindexed.push(topic);
        continue;
      }
      for (const word of bestClause(topic.requiredClauses)) this.byWord.set(word, [...(this.byWord.get(word) ?? []), topic]);
    }
  }

  /** The same matcher over a subset of its topics (for backfilling one topic). */
  restrictedTo(topics: readonly CompiledTopic[]): TopicMatcher {
    return new TopicMatcher(topics, this.sourceNames, this.sourceFilters);
  }

  /** Whether the item's source stores it at all: its `keep` query matches it (when it has one), its `exclude` not. */
  keeps(item: MatchableItem, sourceId: string, now = new Date()): boolean {
    const filter = this.sourceFilters.get(sourceId);
    return !filter || filter(matchDocument(item, this.sourceNames(sourceId)), now);
  }

  /** Slugs of the topics an item belongs to. */
  match(item: MatchableItem, sourceId: string, now = new Date()): string[] {
    if (this.topics.length === 0) return [];
    if (this.topics.length < INDEX_MIN_TOPICS) {
      const document = matchDocument(item, this.sourceNames(sourceId));
      return this.topics.filter((topic) => topic.matches(document, sourceId, now)).map((topic) => topic.slug);
    }
    const present = new Set(words([item.title, item.summary, item.contentText].filter(Boolean).join('\n')));
    const candidates = new Set(this.unindexed);
    for (const word of present) {
      for (const topic of this.byWord.get(word) ?? []) {
        if (topic.requiredClauses!.every((clause) => [...clause].some((required) => present.has(required)))) candidates.add(topic);
      }
    }
    if (candidates.size === 0) return [];
    const document = matchDocument(item, this.sourceNames(sourceId));
    return this.topics.filter((topic) => candidates.has(topic) && topic.matches(document, sourceId, now)).map((topic) => topic.slug);
  }
}

/** A matcher for the configured topics, resolving a source's tags for source: queries and topic `sources:`. */
export function topicMatcher(topics: readonly CompiledTopic[], sources: readonly Source[]): TopicMatcher {
  const names = new Map(sources.map((source) => [source.id, [source.id, ...source.tags]]));
  const filters = new Map(sources.filter((source) => source.keep || source.exclude).map((source) => [source.id, sourceFilter(source)]));
  return new TopicMatcher(topics, (sourceId) => names.get(sourceId) ?? [sourceId], filters);
}

/** A source's `keep` and `exclude` queries as one matcher: true for the items it stores. */
function sourceFilter(source: Source): Matcher {
  const keep = source.keep ? compileQuery(source.keep) : undefined;
  const exclude = source.exclude ? compileQuery(source.exclude) : undefined;
  return (document, now) => (keep?.(document, now) ?? true) && !(exclude?.(document, now) ?? false);
}
