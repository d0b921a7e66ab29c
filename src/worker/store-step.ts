import type { Database } from '../db/client.js';
import type { NormalizedItem } from '../model/item.js';
import { type StoreOptions, type StoreResult, storeDocuments } from '../store/items.js';
import { refreshStories } from '../store/stories.js';
import { addMemberships, type Membership, touchTopics } from '../store/topics.js';
import type { TopicMatcher } from '../topics/topics.js';

/** Items stored per round of statements: bounds one statement's size whatever a batch holds. */
const STORE_CHUNK = 500;

/** One fetched document for the store step, with the topics its items are matched against. */
export interface StoreJob {
  sourceId: string;
  items: readonly NormalizedItem[];
  /** Items of the document already known as duplicates (counted, not stored again). */
  knownDuplicates?: number;
  topics: Pick<TopicMatcher, 'match'>;
}

export interface StoredDocument {
  result: StoreResult;
  /** Topics whose feeds changed: gained a story, or hold a story that changed. */
  changedTopics: string[];
  /** Topic memberships added. */
  matched: number;
}

/** The jobs' items in rounds of at most STORE_CHUNK items; a larger document is split over several rounds. */
function roundsOf(jobs: readonly StoreJob[]): Array<Array<{ job: number; items: readonly NormalizedItem[] }>> {
  const rounds: Array<Array<{ job: number; items: readonly NormalizedItem[] }>> = [[]];
  let size = 0;
  for (const [job, { items }] of jobs.entries()) {
    for (let start = 0; start === 0 || start < items.length; start += STORE_CHUNK) {
      const piece = items.slice(start, start + STORE_CHUNK);
      if (size > 0 && size + piece.length > STORE_CHUNK) {
        rounds.push([]);
        size = 0;
      }
      rounds.at(-1)!.push({ job, items: piece });
      size += piece.length;
    }
  }
  return rounds;
}

/**
 * The store step of the pipeline for one or more documents, inside the caller's transaction: stores (or recognizes,
 * or revises) the items, files new and revised ones under the topics they match, refreshes the stories they touched
 * and marks changed topics, a fixed number of statements per round of items. A later round sees what the earlier
 * ones stored, as a later document would.
 */
export async function storeAndMatch(tx: Database, jobs: readonly StoreJob[], options: StoreOptions = {}): Promise<StoredDocument[]> {
  const out = jobs.map(
    (job): StoredDocument => ({ result: { stored: [], revised: [], duplicates: job.knownDuplicates ?? 0, touchedStories: [] }, changedTopics: [], matched: 0 }),
  );
  for (const round of roundsOf(jobs)) {
    const results = await storeDocuments(
      tx,
      round.map(({ job, items }) => ({ sourceId: jobs[job]!.sourceId, items })),
      options,
    );
    const memberships: Array<Membership & { job: number }> = round.flatMap(({ job }, index) => {
      const { sourceId, topics } = jobs[job]!;
      const { stored, revised } = results[index]!;
      return [...stored, ...revised].flatMap(({ storyId, item }) =>
        topics.match(item, sourceId).map((topicSlug) => ({ job, topicSlug, storyId, publishedAt: item.publishedAt })),
      );
    });
    const added = await addMemberships(tx, memberships);
    const touchedStories = [...new Set(results.flatMap((result) => result.touchedStories))];
    await refreshStories(tx, touchedStories);
    await touchTopics(tx, { slugs: [...new Set(memberships.map((membership) => membership.topicSlug))], storyIds: touchedStories });
    for (const [index, { job }] of round.entries()) {
      const result = results[index]!;
      const total = out[job]!;
      total.result.stored.push(...result.stored);
      total.result.revised.push(...result.revised);
      total.result.duplicates += result.duplicates;
      total.result.touchedStories = [...new Set([...total.result.touchedStories, ...result.touchedStories])];
      // A revision changes a story's entry even when no topic gains a story; touchTopics covered the database, this
      // tells the caller (for caches and WebSub).
      const { sourceId, topics } = jobs[job]!;
      const changed = new Set([
        ...total.changedTopics,
        ...memberships.filter((membership) => membership.job === job).map((membership) => membership.topicSlug),
      ]);
      for (const { item } of result.revised) for (const slug of topics.match(item, sourceId)) changed.add(slug);
      total.changedTopics = [...changed];
    }
    // A membership two documents of the round proposed counts for the first.
    const proposer = new Map<string, number>();
    for (const { job, topicSlug, storyId } of memberships) if (!proposer.has(`${topicSlug}\n${storyId}`)) proposer.set(`${topicSlug}\n${storyId}`, job);
    for (const { topicSlug, storyId } of added) out[proposer.get(`${topicSlug}\n${storyId}`)!]!.matched++;
  }
  return out;
}
