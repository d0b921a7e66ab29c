import { type Database, pipelinedRows } from '../db/client.js';
import type { NormalizedItem } from '../model/item.js';
import { ownContentText } from '../normalize/item.js';
import { type StoreOptions, type StoreResult, storeDocuments } from '../store/items.js';
import { refreshStatements } from '../store/stories.js';
import { addedByProposer, type Filing, membershipStatements, touchStatement } from '../store/topics.js';
import type { TopicMatcher } from '../topics/topics.js';

/**
 * Items per round of statements, and the characters of text they carry at most: bound one statement's size, and the
 * memory its sending takes (postgres.js holds a statement's parameters three times over as it sends them), whatever a
 * batch holds. Long texts (full articles, up to fetch.maxItemSize each) make rounds of fewer items.
 */
const ROUND_ITEMS = 500;
const ROUND_CHARS = 1_000_000;
/** What an item weighs in its round's statements: the texts it sends, and about a kilobyte of keys, fingerprint and bands. */
const weightOf = (item: NormalizedItem) =>
  1024 + item.title.length + (item.summary?.length ?? 0) + (item.contentHtml?.length ?? 0) + (ownContentText(item)?.length ?? 0);

/** One fetched document for the store step, with the topics its items are matched against. */
export interface StoreJob {
  sourceId: string;
  items: readonly NormalizedItem[];
  /** Items of the document already known as duplicates (counted, not stored again). */
  knownDuplicates?: number;
  /** Stored items read again, not fetched, by the content hash each was read from (DocumentItems.reread). */
  reread?: ReadonlyMap<NormalizedItem, string>;
  topics: Pick<TopicMatcher, 'match'>;
}

export interface StoredDocument {
  result: StoreResult;
  /** Topics whose feeds changed: gained a story, or hold a story that changed. */
  changedTopics: string[];
  /** Topic memberships added. */
  matched: number;
}

/** A piece of a job's items, stored in one round. */
export interface RoundPiece {
  job: number;
  items: readonly NormalizedItem[];
}

/**
 * The jobs' items, in order, in rounds of at most ROUND_ITEMS items and ROUND_CHARS of text (an item heavier than that
 * alone makes a round of its own); a job is split over rounds where one ends. A job without items still takes part.
 */
export function storeRounds(jobs: ReadonlyArray<{ items: readonly NormalizedItem[] }>, limits = { items: ROUND_ITEMS, chars: ROUND_CHARS }): RoundPiece[][] {
  const rounds: RoundPiece[][] = [[]];
  let count = 0;
  let chars = 0;
  for (const [job, { items }] of jobs.entries()) {
    let start = 0;
    for (const [index, item] of items.entries()) {
      const weight = weightOf(item);
      if (count > 0 && (count + 1 > limits.items || chars + weight > limits.chars)) {
        if (index > start) rounds.at(-1)!.push({ job, items: items.slice(start, index) });
        start = index;
        rounds.push([]);
        count = 0;
        chars = 0;
      }
      count++;
      chars += weight;
    }
    rounds.at(-1)!.push({ job, items: start === 0 ? items : items.slice(start) });
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
  // The topics each job's stored and revised items match: a revision changes a story's entry even when no topic gains
  // a story. touchTopics marks them in the database; changedTopics tells the caller (for caches and WebSub).
  const changedTopics = jobs.map(() => new Set<string>());
  for (const round of storeRounds(jobs)) {
    const results = await storeDocuments(
      tx,
      round.map(({ job, items }) => ({ sourceId: jobs[job]!.sourceId, items, reread: jobs[job]!.reread })),
      options,
    );
    const filings: Filing[] = round.flatMap(({ job }, index) => {
      const { sourceId, topics } = jobs[job]!;
      const { stored, revised } = results[index]!;
      return [...stored, ...revised].map(({ storyId, item, startedStory }) => ({
        storyId,
        topicSlugs: topics.match(item, sourceId),
        proposer: job,
        startedStory,
      }));
    });
    const filedTopics = new Set<string>();
    for (const { topicSlugs, proposer } of filings) {
      for (const slug of topicSlugs) {
        filedTopics.add(slug);
        changedTopics[proposer]!.add(slug);
      }
    }
    const touchedStories = [...new Set(results.flatMap((result) => result.touchedStories))];
    // Stories first: their entries are filed at their (refreshed) times. One wait for all of these statements.
    const refresh = refreshStatements(touchedStories);
    const filingStatements = membershipStatements(filings, 'queue');
    const touching = touchStatement({ slugs: [...filedTopics], storyIds: touchedStories });
    const answers = await pipelinedRows(tx, [...refresh, ...filingStatements, ...(touching ? [touching] : [])]);
    const filed = answers.slice(refresh.length, refresh.length + filingStatements.length).flat();
    for (const [job, added] of addedByProposer(filings, filed)) out[job]!.matched += added;
    for (const [index, { job }] of round.entries()) {
      const result = results[index]!;
      const total = out[job]!.result;
      total.stored.push(...result.stored);
      total.revised.push(...result.revised);
      total.duplicates += result.duplicates;
      total.touchedStories = [...new Set([...total.touchedStories, ...result.touchedStories])];
    }
  }
  for (const [job, document] of out.entries()) document.changedTopics = [...changedTopics[job]!];
  return out;
}
