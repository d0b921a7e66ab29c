import { type Database, isDatabaseUnavailable, withinDeadline } from '../db/client.js';
import { type CacheHints, FetchError, fetchFeed, type HttpClient } from '../fetch/index.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import type { NormalizedItem } from '../model/item.js';
import { type ProgressFactory, silentProgress } from '../model/progress.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits, type FetchLimits } from '../model/settings.js';
import type { Source } from '../model/source.js';
import { type NormalizeContext, normalizeItem } from '../normalize/item.js';
import { limitDocument } from '../normalize/limits.js';
import { type ParsedFeed, parseFeed } from '../parse/index.js';
import { type StoreResult, storeItems } from '../store/items.js';
import { type FetchRecord, recordFetch, type SourceState, sourceState } from '../store/sources.js';
import { refreshStories } from '../store/stories.js';
import { addMemberships, type Membership, touchTopics } from '../store/topics.js';
import type { TopicMatcher } from '../topics/topics.js';
import { nextCheckAt } from './next-check.js';
import { trackRedirects } from './redirects.js';

export interface IngestContext {
  db: Database;
  topics: TopicMatcher;
  http: HttpClient;
  metrics: Metrics;
  fetchLimits?: Partial<FetchLimits>;
  /** The shortest wait between two fetches of a source (`worker.minInterval`). */
  minPollSeconds?: number;
  /** Aborted at shutdown: in-flight fetches are abandoned without being recorded as the source's failure. */
  signal?: AbortSignal;
  /** Items per document and characters per item text (fetch.maxItems, fetch.maxItemSize). */
  documentLimits?: DocumentLimits;
  /** Called after a source's items are committed with the topics that gained stories. */
  onTopicsChanged?: (slugs: string[]) => void;
}

/** Items stored per round of statements: keeps every statement far below Postgres's 65,535 bind parameters. */
export const STORE_CHUNK = 500;

/**
 * The store step of the pipeline, inside the caller's transaction: stores (or recognizes, or revises) the items,
 * files new and revised ones under the topics they match, refreshes the stories they touched and marks changed
 * topics. Returns the store result and the topics whose feeds changed. A large document is stored in chunks; a
 * later chunk sees what the earlier ones stored, as a later document would.
 */
export async function storeAndMatch(
  tx: Database,
  topics: TopicMatcher,
  sourceId: string,
  items: NormalizedItem[],
): Promise<{ result: StoreResult; changedTopics: string[]; matched: number }> {
  const total: StoreResult = { stored: [], revised: [], duplicates: 0, touchedStories: [] };
  const changed = new Set<string>();
  let matched = 0;
  for (let start = 0; start === 0 || start < items.length; start += STORE_CHUNK) {
    const chunk = await storeChunk(tx, topics, sourceId, items.slice(start, start + STORE_CHUNK));
    total.stored.push(...chunk.result.stored);
    total.revised.push(...chunk.result.revised);
    total.duplicates += chunk.result.duplicates;
    total.touchedStories = [...new Set([...total.touchedStories, ...chunk.result.touchedStories])];
    for (const slug of chunk.changedTopics) changed.add(slug);
    matched += chunk.matched;
  }
  return { result: total, changedTopics: [...changed], matched };
}

async function storeChunk(tx: Database, topics: TopicMatcher, sourceId: string, items: NormalizedItem[]) {
  const result = await storeItems(tx, sourceId, items);
  const memberships: Membership[] = [...result.stored, ...result.revised].flatMap(({ storyId, item }) =>
    topics.match(item, sourceId).map((topicSlug) => ({ topicSlug, storyId, publishedAt: item.publishedAt })),
  );
  const matched = await addMemberships(tx, memberships);
  await refreshStories(tx, result.touchedStories);
  const gained = [...new Set(memberships.map((membership) => membership.topicSlug))];
  await touchTopics(tx, { slugs: gained, storyIds: result.touchedStories });
  // A revision or a new outlet changes a story's entry even when no topic gains a story; touchTopics covered the
  // database, this tells the caller (for caches and WebSub).
  const changed = new Set(gained);
  for (const { item } of result.revised) for (const slug of topics.match(item, sourceId)) changed.add(slug);
  return { result, changedTopics: [...changed], matched };
}

export interface SourceOutcome {
  sourceId: string;
  /**
   * `deferred`: nothing happened that was the source's doing (our database was unreachable, or we shut down
   * mid-fetch); nothing was recorded or charged to it and it is fetched again later.
   */
  outcome: 'ok' | 'not-modified' | 'failed' | 'gone' | 'deferred';
  /** HTTP status of the response, when there was one. */
  status?: number;
  itemsNew: number;
  itemsDuplicate: number;
  itemsRevised: number;
  error?: string;
}

/** Items normalized between two turns of the event loop. */
const NORMALIZE_SLICE = 50;

/**
 * The document's items cut to the limits (logged when cut) and normalized one by one: an item that cannot be
 * normalized is skipped and logged, never costing the others, and the event loop turns between slices.
 */
async function normalizeDocument(feed: ParsedFeed, limits: DocumentLimits, source: Source, context: NormalizeContext): Promise<NormalizedItem[]> {
  for (const warning of feed.warnings ?? []) log.warn({ source: source.id, warning }, 'feed read leniently');
  const { items, droppedItems, cutTexts } = limitDocument(feed.items, limits);
  if (droppedItems > 0) log.warn({ source: source.id, items: feed.items.length, kept: items.length }, 'document cut to fetch.maxItems items');
  if (cutTexts > 0) log.warn({ source: source.id, texts: cutTexts, chars: limits.maxItemChars }, 'item texts cut to fetch.maxItemSize');
  const normalized: NormalizedItem[] = [];
  for (const [index, item] of items.entries()) {
    try {
      normalized.push(normalizeItem(item, feed, context));
    } catch (error) {
      log.warn({ source: source.id, item: index, guid: item.guid?.slice(0, 200), error: (error as Error).message }, 'item skipped: it could not be read');
    }
    if (index % NORMALIZE_SLICE === NORMALIZE_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
  }
  return normalized;
}

/** A feed's store step takes well under a second; far longer means its transaction is wedged (see withinDeadline). */
const STORE_DEADLINE_MS = 30_000;

const FRESH_STATE: SourceState = { etag: null, lastModified: null, fetchUrl: null, redirectTarget: null, redirectCount: 0, errorCount: 0, goneAt: null };

/**
 * One source through the pipeline: fetch, parse, normalize, store, match topics. Items, memberships and the new
 * validators are committed together, so a failure leaves the store as it was and the next fetch starts over.
 * Never throws: a failure is recorded on the source (with a backoff) and returned.
 */
export async function ingestSource(context: IngestContext, source: Source): Promise<SourceOutcome> {
  const { fetches, fetchDuration, itemsStored } = context.metrics;
  const stopTimer = fetchDuration.startTimer();
  const outcome = await ingestSourceOnce(context, source).catch((error: Error) => {
    if (!isDatabaseUnavailable(error)) throw error;
    return deferredByOutage(source, error);
  });
  // A source already known to be gone is not fetched at all: nothing to count.
  const fetched = !(outcome.outcome === 'gone' && outcome.status === undefined);
  if (fetched) {
    stopTimer();
    fetches.inc({ outcome: outcome.outcome, status: String(outcome.status ?? 'none') });
  }
  itemsStored.inc({ result: 'new' }, outcome.itemsNew);
  itemsStored.inc({ result: 'duplicate' }, outcome.itemsDuplicate);
  itemsStored.inc({ result: 'revised' }, outcome.itemsRevised);
  return outcome;
}

const deferred = (sourceId: string, error: string): SourceOutcome => ({
  sourceId,
  outcome: 'deferred',
  itemsNew: 0,
  itemsDuplicate: 0,
  itemsRevised: 0,
  error,
});

/** Our database went away: the transaction rolled back, so nothing (items, validators, errors) was kept. */
function deferredByOutage(source: Source, error: Error): SourceOutcome {
  const message = `database unavailable: ${error.message.split('\n')[0]}`;
  log.error({ source: source.id, error: message }, 'nothing stored; the source is not charged and is fetched again when its lease expires');
  return deferred(source.id, message);
}

/**
 * One fetch of one source, recorded whatever happens. Why it is long: the pipeline's steps (fetch, parse, normalize,
 * store, record) in order, sharing the fetch's state and one error path; the store issue (#19) moves the store step
 * to a queue of its own.
 */
async function ingestSourceOnce(context: IngestContext, source: Source): Promise<SourceOutcome> {
  const { db } = context;
  const startedAt = new Date();
  const elapsed = () => Date.now() - startedAt.getTime();
  const state = (await sourceState(db, source.id)) ?? FRESH_STATE;
  if (state.goneAt) {
    const error = `gone (HTTP 410) since ${state.goneAt.toISOString()}; change its url in the config to poll it again`;
    return { sourceId: source.id, outcome: 'gone', itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0, error };
  }
  const url = state.fetchUrl ?? source.url;
  const record = (fields: Omit<FetchRecord, 'sourceId' | 'startedAt' | 'durationMs'>) =>
    ({ sourceId: source.id, startedAt, durationMs: elapsed(), ...fields }) satisfies FetchRecord;
  const succeeded = (hints: CacheHints, feed?: Parameters<typeof nextCheckAt>[0]['feed']) =>
    nextCheckAt({ now: new Date(), pollSeconds: source.pollSeconds, hints, feed, consecutiveErrors: 0, minSeconds: context.minPollSeconds });

  try {
    const response = await fetchFeed(context.http, {
      url,
      etag: state.etag,
      lastModified: state.lastModified,
      network: source.network,
      limits: context.fetchLimits,
      signal: context.signal,
    });
    const { moved, ...redirectState } = trackRedirects(state, response.redirects, response.finalUrl);
    if (moved) log.warn({ source: source.id, url, movedTo: redirectState.fetchUrl }, 'source moved permanently; fetching the new URL from now on');

    if (response.kind === 'not-modified') {
      await recordFetch(
        db,
        record({
          outcome: 'not-modified',
          httpStatus: 304,
          itemsNew: 0,
          itemsDuplicate: 0,
          nextCheckAt: succeeded(response.hints),
          state: { ...redirectState, errorCount: 0 },
        }),
      );
      log.info({ source: source.id, url, outcome: 'not-modified', ms: elapsed() }, 'fetched');
      return { sourceId: source.id, outcome: 'not-modified', status: 304, itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0 };
    }

    const feed = await parseFeed(response.text);
    const normalized = await normalizeDocument(feed, context.documentLimits ?? DEFAULT_DOCUMENT_LIMITS, source, {
      feedUrl: response.finalUrl,
      fetchedAt: startedAt,
      shortUrlHosts: source.shortUrlHosts,
    });
    const gained = new Set<string>();
    const storing = db.transaction(async (tx) => {
      const { result, changedTopics, matched } = await storeAndMatch(tx, context.topics, source.id, normalized);
      for (const slug of changedTopics) gained.add(slug);
      context.metrics.topicMatches.inc(matched);
      // Validators are written in the same transaction as the items: never remembered for items we did not keep.
      await recordFetch(
        tx,
        record({
          outcome: 'ok',
          httpStatus: response.status,
          bytes: response.bytes,
          itemsNew: result.stored.length,
          itemsDuplicate: result.duplicates,
          nextCheckAt: succeeded(response.hints, feed),
          // A cut-off document's validators would make the server answer 304 to the next fetch, and the items after
          // the cut would never arrive: keep none, so the next fetch asks for the whole document.
          state: {
            ...redirectState,
            errorCount: 0,
            etag: feed.truncated ? null : (response.etag ?? null),
            lastModified: feed.truncated ? null : (response.lastModified ?? null),
          },
          siteUrl: feed.siteUrl,
        }),
      );
      return result;
    });
    const stored = await withinDeadline(storing, STORE_DEADLINE_MS, 'storing the items');
    if (gained.size > 0) context.onTopicsChanged?.([...gained]);
    const outcome: SourceOutcome = {
      sourceId: source.id,
      outcome: 'ok',
      status: response.status,
      itemsNew: stored.stored.length,
      itemsDuplicate: stored.duplicates,
      itemsRevised: stored.revised.length,
    };
    const { sourceId: _, ...counts } = outcome;
    log.info({ source: source.id, url, ...counts, bytes: response.bytes, encoding: response.encoding, ms: elapsed() }, 'fetched');
    return outcome;
  } catch (error) {
    const fetchError = error instanceof FetchError ? error : undefined;
    const message = fetchError?.kind === 'refused' ? `${fetchError.message}; set allowPrivateNetwork on the source to allow it` : (error as Error).message;
    if (fetchError?.kind === 'aborted') {
      // Our shutdown, not the source's fault: nothing is recorded, the source stays due and its lease is released.
      log.info({ source: source.id, url }, 'fetch abandoned at shutdown');
      return deferred(source.id, message);
    }
    if (isDatabaseUnavailable(error)) return deferredByOutage(source, error as Error);
    const gone = fetchError?.kind === 'gone';
    const errorCount = state.errorCount + 1;
    const next = nextCheckAt({
      now: new Date(),
      pollSeconds: source.pollSeconds,
      hints: fetchError?.hints ?? {},
      consecutiveErrors: errorCount,
      minSeconds: context.minPollSeconds,
    });
    const outcome = gone ? 'gone' : 'failed';
    log.warn(
      { source: source.id, url, outcome, error: message, errorCount, nextCheckAt: next.toISOString() },
      gone ? 'source is gone (410); no more polling until its URL changes' : 'fetch failed',
    );
    try {
      await recordFetch(
        db,
        record({
          outcome,
          httpStatus: fetchError?.status,
          itemsNew: 0,
          itemsDuplicate: 0,
          error: message,
          nextCheckAt: next,
          state: { errorCount, ...(gone ? { goneAt: new Date() } : {}) },
        }),
      );
    } catch (recordError) {
      log.error({ source: source.id, error: (recordError as Error).message }, 'could not record failed fetch');
    }
    return { sourceId: source.id, outcome, status: fetchError?.status, itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0, error: message };
  }
}

export interface IngestSummary {
  ok: number;
  notModified: number;
  failed: number;
  /** Not the sources' doing (database outage, shutdown): not charged, fetched again later. */
  deferred: number;
  /** Not started: `shouldStart` said no (the source's lease had passed to another worker). */
  skipped: number;
  itemsNew: number;
  itemsDuplicate: number;
  itemsRevised: number;
  outcomes: SourceOutcome[];
}

export interface IngestOptions {
  /** Sources in flight at once (the fetch layer adds its per-host limit). */
  concurrency?: number;
  progress?: ProgressFactory;
  /**
   * Asked just before a source starts; false skips it. The scheduler renews the source's lease here, so a source
   * whose lease ran out while it waited in this queue (and that another worker may have claimed) is not fetched twice.
   */
  shouldStart?: (source: Source) => Promise<boolean>;
}

/** Runs every source through the pipeline, `concurrency` at a time. Skipped sources are counted, not ingested. */
export async function ingestSources(context: IngestContext, sources: readonly Source[], options: IngestOptions = {}): Promise<IngestSummary> {
  const outcomes: SourceOutcome[] = [];
  let skipped = 0;
  const bar = (options.progress ?? silentProgress)('ingest', sources.length, 'sources');
  let next = 0;
  const runners = Array.from({ length: Math.min(options.concurrency ?? 8, sources.length) }, async () => {
    while (next < sources.length) {
      const source = sources[next++]!;
      if (options.shouldStart && !(await options.shouldStart(source))) skipped++;
      else outcomes.push(await ingestSource(context, source));
      bar.advance(1, source.id);
    }
  });
  await Promise.all(runners);
  bar.finish();
  return { ...summarize(outcomes), skipped };
}

function summarize(outcomes: SourceOutcome[]): Omit<IngestSummary, 'skipped'> {
  const count = (...kinds: SourceOutcome['outcome'][]) => outcomes.filter((outcome) => kinds.includes(outcome.outcome)).length;
  return {
    ok: count('ok'),
    notModified: count('not-modified'),
    failed: count('failed', 'gone'),
    deferred: count('deferred'),
    itemsNew: outcomes.reduce((sum, outcome) => sum + outcome.itemsNew, 0),
    itemsDuplicate: outcomes.reduce((sum, outcome) => sum + outcome.itemsDuplicate, 0),
    itemsRevised: outcomes.reduce((sum, outcome) => sum + outcome.itemsRevised, 0),
    outcomes,
  };
}
