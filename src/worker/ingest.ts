import type { Source } from '../config/load.js';
import type { Database } from '../db/client.js';
import { fetchFeed } from '../fetch/index.js';
import { log } from '../log.js';
import { normalizeItem } from '../normalize/item.js';
import { parseFeed } from '../parse/index.js';
import { storeItems } from '../store/items.js';
import { recordFetch, sourceState } from '../store/sources.js';
import { addMemberships, type Membership } from '../store/topics.js';
import { matchingTopics, type CompiledTopic } from '../topics/topics.js';

export interface IngestContext {
  db: Database;
  topics: readonly CompiledTopic[];
  /** Called after a source's items are committed with the topics that gained stories. */
  onTopicsChanged?: (slugs: string[]) => void;
}

export interface SourceOutcome {
  sourceId: string;
  outcome: 'ok' | 'not-modified' | 'failed';
  itemsNew: number;
  itemsDuplicate: number;
  error?: string;
}

/**
 * One source through the pipeline: fetch, parse, normalize, store, match topics. Items, memberships and the new
 * validators are committed together, so a failure leaves the store as it was and the next fetch starts over.
 * Never throws: a failure is recorded on the source and returned.
 */
export async function ingestSource(context: IngestContext, source: Source): Promise<SourceOutcome> {
  const { db } = context;
  const startedAt = new Date();
  const elapsed = () => Date.now() - startedAt.getTime();
  const nextCheckAt = new Date(startedAt.getTime() + source.pollSeconds * 1000);
  const state = await sourceState(db, source.id);
  try {
    const response = await fetchFeed(source.url, { etag: state?.etag, lastModified: state?.lastModified });
    if (response.kind === 'not-modified') {
      await recordFetch(db, { sourceId: source.id, startedAt, durationMs: elapsed(), outcome: 'not-modified', httpStatus: 304, itemsNew: 0, itemsDuplicate: 0, nextCheckAt });
      log.info({ source: source.id, url: source.url, outcome: 'not-modified' }, 'fetched');
      return { sourceId: source.id, outcome: 'not-modified', itemsNew: 0, itemsDuplicate: 0 };
    }
    const feed = await parseFeed(response.text);
    const normalized = feed.items.map((item) =>
      normalizeItem(item, feed, { feedUrl: response.finalUrl, fetchedAt: startedAt, shortUrlHosts: source.shortUrlHosts }),
    );
    const gained = new Set<string>();
    const result = await db.transaction(async (tx) => {
      const stored = await storeItems(tx, source.id, normalized);
      const memberships: Membership[] = stored.stored.flatMap(({ storyId, item }) =>
        matchingTopics(context.topics, item).map((topicSlug) => ({ topicSlug, storyId, publishedAt: item.publishedAt })),
      );
      await addMemberships(tx, memberships);
      memberships.forEach((membership) => gained.add(membership.topicSlug));
      await recordFetch(tx, {
        sourceId: source.id,
        startedAt,
        durationMs: elapsed(),
        outcome: 'ok',
        httpStatus: response.status,
        bytes: response.bytes,
        itemsNew: stored.stored.length,
        itemsDuplicate: stored.duplicates,
        validators: { etag: response.etag ?? null, lastModified: response.lastModified ?? null },
        siteUrl: feed.siteUrl,
        nextCheckAt,
      });
      return stored;
    });
    if (gained.size > 0) context.onTopicsChanged?.([...gained]);
    const outcome: SourceOutcome = { sourceId: source.id, outcome: 'ok', itemsNew: result.stored.length, itemsDuplicate: result.duplicates };
    log.info({ source: source.id, url: source.url, ...outcome, ms: elapsed() }, 'fetched');
    return outcome;
  } catch (error) {
    const message = (error as Error).message;
    const status = (error as { status?: number }).status;
    log.warn({ source: source.id, url: source.url, outcome: 'failed', error: message }, 'fetch failed');
    try {
      await recordFetch(db, { sourceId: source.id, startedAt, durationMs: elapsed(), outcome: 'failed', httpStatus: status, itemsNew: 0, itemsDuplicate: 0, error: message, nextCheckAt });
    } catch (recordError) {
      log.error({ source: source.id, error: (recordError as Error).message }, 'could not record failed fetch');
    }
    return { sourceId: source.id, outcome: 'failed', itemsNew: 0, itemsDuplicate: 0, error: message };
  }
}

export interface IngestSummary {
  ok: number;
  notModified: number;
  failed: number;
  itemsNew: number;
  itemsDuplicate: number;
  outcomes: SourceOutcome[];
}

/** Runs every source through the pipeline, `concurrency` at a time. */
export async function ingestSources(context: IngestContext, sources: readonly Source[], concurrency = 8): Promise<IngestSummary> {
  const outcomes: SourceOutcome[] = [];
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, sources.length) }, async () => {
    while (next < sources.length) {
      const source = sources[next++]!;
      outcomes.push(await ingestSource(context, source));
    }
  });
  await Promise.all(runners);
  return summarize(outcomes);
}

export function summarize(outcomes: SourceOutcome[]): IngestSummary {
  return {
    ok: outcomes.filter((outcome) => outcome.outcome === 'ok').length,
    notModified: outcomes.filter((outcome) => outcome.outcome === 'not-modified').length,
    failed: outcomes.filter((outcome) => outcome.outcome === 'failed').length,
    itemsNew: outcomes.reduce((sum, outcome) => sum + outcome.itemsNew, 0),
    itemsDuplicate: outcomes.reduce((sum, outcome) => sum + outcome.itemsDuplicate, 0),
    outcomes,
  };
}

export function formatSummary(summary: IngestSummary): string {
  return (
    `sources: ${summary.ok} ok, ${summary.notModified} not modified, ${summary.failed} failed; ` +
    `items: ${summary.itemsNew} new, ${summary.itemsDuplicate} duplicate`
  );
}
