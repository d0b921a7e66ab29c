import { type Database, isDatabaseUnavailable } from '../db/client.js';
import { parsedItemHasher, readingHasher } from '../dedup/key.js';
import { Semaphore } from '../fetch/host-limit.js';
import { type CacheHints, FetchError, fetchFeed, type HttpClient } from '../fetch/index.js';
import { log } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import type { NormalizedItem } from '../model/item.js';
import { type ProgressFactory, silentProgress } from '../model/progress.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits, type FetchLimits } from '../model/settings.js';
import type { DocumentItemHashes, HubLinks, PushSubscription, RecentItems, ScrapeRules, Source } from '../model/source.js';
import { documentBase, type NormalizeContext, normalizeItem } from '../normalize/item.js';
import { limitDocument } from '../normalize/limits.js';
import type { PageReader } from '../normalize/page-reader.js';
import { type ParsedFeed, parseFeed } from '../parse/index.js';
import { knownParsedHashes } from '../store/items.js';
import { type FetchRecord, recentItems, recordFetches, type SourceState, sourceStates } from '../store/sources.js';
import { sourceSubscriptions } from '../store/subscriptions.js';
import type { TopicMatcher } from '../topics/topics.js';
import { type FullText, withFullText } from './full-text.js';
import { ADAPTIVE_POLL, adaptivePollSeconds, nextCheckAt } from './next-check.js';
import { trackRedirects } from './redirects.js';
import { prepareDocument, type StoreQueue } from './store-queue.js';
import type { StoredDocument } from './store-step.js';
import { type PushLinks, type PushSubscriber, pushLinksOf } from './subscriptions.js';

export interface IngestContext {
  db: Database;
  topics: TopicMatcher;
  http: HttpClient;
  /** Reads web pages off the main thread: articles (sources with fullText) and listings (sources with scrape). */
  pages: PageReader;
  metrics: Metrics;
  fetchLimits?: Partial<FetchLimits>;
  /** The shortest wait between two fetches of a source (`worker.minInterval`). */
  minPollSeconds?: number;
  /** Aborted at shutdown: in-flight fetches are abandoned without being recorded as the source's failure. */
  signal?: AbortSignal;
  /** Items per document and characters per item text (fetch.maxItems, fetch.maxItemSize). */
  documentLimits?: DocumentLimits;
  /** The process's store step: documents parsed at about the same time are stored in one transaction. */
  store: StoreQueue;
  /** Called after a source's items are committed with the topics that gained stories. */
  onTopicsChanged?: (slugs: string[]) => void;
  /** Keeps sources' WebSub subscriptions (fetch.websub): told what each successful fetch said of its hub. */
  push?: PushSubscriber;
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
  /** Items the source's `keep` or `exclude` query left out (only when some were). */
  itemsFiltered?: number;
  error?: string;
}

/** A fetch's outcome, with what it said of the source's WebSub hub when it succeeded. */
type FetchOutcome = SourceOutcome & { pushLinks?: PushLinks };

/**
 * A source's fetch state, with its recent items when it is fetched `every: auto`, and its WebSub subscription (null:
 * none) when the pass keeps them.
 */
export type PassState = SourceState & { recentItems?: RecentItems; push?: PushSubscription | null };

/**
 * The fetch states of these sources in one query, the recent items of those in `adaptive` in one more, and with
 * `withPush` (fetch.websub) their subscriptions in a third: a fetch then reads none of its own.
 */
async function fetchStates(db: Database, ids: readonly string[], adaptive: ReadonlySet<string>, withPush: boolean): Promise<Map<string, PassState>> {
  const [states, recent, subscriptions] = await Promise.all([
    sourceStates(db, ids),
    recentItems(
      db,
      ids.filter((id) => adaptive.has(id)),
      new Date(),
      ADAPTIVE_POLL.windowSeconds,
    ),
    withPush ? sourceSubscriptions(db, ids) : undefined,
  ]);
  return new Map(
    [...states].map(([id, state]) => [
      id,
      {
        ...state,
        ...(recent.has(id) ? { recentItems: recent.get(id)! } : {}),
        ...(subscriptions ? { push: subscriptions.get(id) ?? null } : {}),
      },
    ]),
  );
}

/** What a pass knows of one source's run: its state read ahead, and a call as it passes to the store step. */
export interface SourceRun {
  /** Its fetch state, read with the other sources of the pass (else read when it starts). */
  state?: PassState;
  /** Its document is parsed and normalized: what is left is the store step. */
  parsed?: () => Promise<void>;
}

/** Items normalized in one turn of the event loop (about a millisecond's work). */
const NORMALIZE_SLICE = 10;

/** A plain turn of the event loop, for reading outside a store queue's pipeline. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface NormalizedDocument {
  items: NormalizedItem[];
  /** Items known as stored from their parsed form alone: duplicates, not normalized. */
  knownDuplicates: number;
}

/**
 * The document's items cut to the limits (logged when cut) and normalized one by one, but for those whose parsed form
 * is already stored (a refetch: the common case, recognized by one query and a hash). An item that cannot be
 * normalized is skipped and logged, never costing the others, and the event loop turns between slices. `unread`:
 * items ahead of the cut that the parse left out as known (see readDocument), counted as duplicates.
 */
export async function normalizeDocument(
  db: Database,
  feed: ParsedFeed,
  limits: DocumentLimits,
  sourceId: string,
  context: NormalizeContext,
  unread = 0,
  turn = nextTurn,
): Promise<NormalizedDocument> {
  for (const warning of feed.warnings ?? []) log.warn({ source: sourceId, warning }, 'feed read leniently');
  const { items, droppedItems, cutTexts } = limitDocument(feed.items, { ...limits, maxItems: limits.maxItems - unread });
  if (droppedItems > 0) log.warn({ source: sourceId, items: feed.items.length + unread, kept: items.length + unread }, 'document cut to fetch.maxItems items');
  if (cutTexts > 0) log.warn({ source: sourceId, texts: cutTexts, chars: limits.maxItemChars }, 'item texts cut to fetch.maxItemSize');
  const scope = { sourceId, base: documentBase(feed, context.feedUrl), shortUrlHosts: context.shortUrlHosts };
  const hashes = items.map(parsedItemHasher(scope));
  const known = await knownParsedHashes(db, hashes);
  const normalized: NormalizedItem[] = [];
  for (const [index, item] of items.entries()) {
    if (known.has(hashes[index]!)) continue;
    try {
      normalized.push(Object.assign(normalizeItem(item, feed, context), { parsedHash: hashes[index]! }));
    } catch (error) {
      log.warn({ source: sourceId, item: index, guid: item.guid?.slice(0, 200), error: (error as Error).message }, 'item skipped: it could not be read');
    }
    if (index % NORMALIZE_SLICE === NORMALIZE_SLICE - 1) await turn();
  }
  return { items: normalized, knownDuplicates: unread + items.filter((_, index) => known.has(hashes[index]!)).length };
}

/** What a fetched document is read with: its source, where it came from, and the limits it is cut to. */
export interface DocumentReading extends NormalizeContext {
  sourceId: string;
  limits: DocumentLimits;
  /** Waits for the next slice's turn (a place in StoreQueue.turns); by default the event loop's next turn. */
  turn?: () => Promise<void>;
  /**
   * The source's `keep` and `exclude` queries, which decide what of the document is stored: part of what reading
   * depends on, so that changing them reads the items they left out again.
   */
  filter?: string | undefined;
  /** The document is a web page listing news (sources with `scrape`): read by its rules instead of parsed as a feed. */
  listing?: { rules: ScrapeRules; read: (page: string) => Promise<ParsedFeed> };
}

export interface ReadDocument extends NormalizedDocument {
  /** The feed's own fields; its parsed items are let go once normalized (a document waits for its store with them). */
  feed: Omit<ParsedFeed, 'items'>;
  /** Complete items within fetch.maxItems, read or known unchanged. */
  itemCount: number;
  /** The hash of each of those items' XML, for the next fetch; null for a document cut off. */
  itemHashes: DocumentItemHashes | null;
}

/** Hashes a document, or one item's XML, within what reading it depends on. */
export const documentHasher = ({ sourceId, feedUrl, shortUrlHosts, limits, filter, listing }: DocumentReading) =>
  readingHasher({ sourceId, feedUrl, shortUrlHosts, limits: [limits.maxItems, limits.maxItemChars], filter, scrape: listing?.rules });

/**
 * Parses and normalizes a fetched document. An item whose XML is the same as in the last document stored whole
 * (`previous`) is left out of the parse: a duplicate known without rss-parser building it, which most of a feed's
 * items are on each fetch (feeds rewrite their <lastBuildDate> and add an item or two). What items take from their
 * feed (base URL, language) is checked after the parse; if it changed, the document is parsed again whole.
 */
export async function readDocument(db: Database, text: string, reading: DocumentReading, previous: DocumentItemHashes | null): Promise<ReadDocument> {
  const { sourceId, limits, turn = nextTurn } = reading;
  const hashOf = documentHasher(reading);
  const known = new Set(previous?.hashes);
  const hashes: string[] = [];
  let unread = 0;
  const keepItem = (xml: string) => {
    if (hashes.length >= limits.maxItems) return true; // past the cut: read, then cut and logged as before
    const hash = hashOf(xml);
    hashes.push(hash);
    if (!known.has(hash)) return true;
    unread++;
    return false;
  };
  await turn();
  if (reading.listing) return { ...(await readWhole(db, await reading.listing.read(text), reading)), itemHashes: null };
  let feed = await parseFeed(text, { keepItem });
  const inherited = JSON.stringify([documentBase(feed, reading.feedUrl) ?? null, feed.language ?? null]);
  if (unread > 0 && inherited !== previous?.inherited) {
    log.info({ source: sourceId }, 'feed-level base URL or language changed; reading every item again');
    await turn();
    feed = await parseFeed(text);
    unread = 0;
  }
  const whole = await readWhole(db, feed, reading, unread);
  return { ...whole, itemHashes: feed.truncated || hashes.length === 0 ? null : { inherited, hashes } };
}

/** A parsed document's items normalized (but for `unread`, left out of the parse as known), and its own fields. */
async function readWhole(db: Database, feed: ParsedFeed, reading: DocumentReading, unread = 0): Promise<Omit<ReadDocument, 'itemHashes'>> {
  const { sourceId, limits, turn = nextTurn } = reading;
  const normalized = await normalizeDocument(db, feed, limits, sourceId, reading, unread, turn);
  const itemCount = Math.min(feed.items.length + unread, limits.maxItems);
  const { items: _parsed, ...feedFields } = feed;
  return { ...normalized, feed: feedFields, itemCount };
}

/**
 * A fetched document from its text to the store: read in turns of the event loop (its place in the store queue's
 * line), prepared in a turn of its own, then handed to the store queue once `parsed` resolves (the pipeline's signal
 * that the next fetch may start). The fetch record is made once the reading and the items' outcome are known. Items
 * the source's `keep` or `exclude` query leaves out are dropped first, on the feed's own text (as Miniflux applies its
 * rules before it scrapes), and counted as `filtered`.
 */
export async function readAndStore(
  db: Database,
  store: StoreQueue,
  text: string,
  reading: DocumentReading,
  previous: DocumentItemHashes | null,
  job: {
    topics: Pick<TopicMatcher, 'match' | 'keeps'>;
    record: (read: ReadDocument, stored: StoredDocument) => FetchRecord;
    parsed?: () => Promise<void>;
    /** The items with their articles read in (sources with `fullText`), before they are stored. */
    fullText?: (items: NormalizedItem[]) => Promise<FullText>;
  },
): Promise<StoredDocument & { filtered: number }> {
  const turn = store.turns();
  let read = await readDocument(db, text, { ...reading, turn }, previous);
  const kept = read.items.filter((item) => job.topics.keeps(item, reading.sourceId));
  const filtered = read.items.length - kept.length;
  if (filtered > 0) read = { ...read, items: kept };
  if (job.fullText) {
    const { items, duplicates } = await job.fullText(read.items);
    read = { ...read, items, knownDuplicates: read.knownDuplicates + duplicates };
  }
  await turn();
  const prepared = prepareDocument({
    sourceId: reading.sourceId,
    items: read.items,
    knownDuplicates: read.knownDuplicates,
    topics: job.topics,
    record: (stored) => job.record(read, stored),
  });
  await job.parsed?.();
  return { ...(await store.store(prepared)), filtered };
}

/** How a scraped source's page is read: in the page reader's thread, by the source's rules; the page is its site. */
const listingReading = (pages: PageReader, url: string, rules: ScrapeRules): DocumentReading['listing'] => ({
  rules,
  read: async (page) => Object.assign(await pages.listing(page, url, rules), { siteUrl: url }),
});

const FRESH_STATE: SourceState = {
  etag: null,
  lastModified: null,
  fetchUrl: null,
  redirectTarget: null,
  redirectCount: 0,
  errorCount: 0,
  goneAt: null,
  documentHash: null,
  documentItems: 0,
  documentSchedule: null,
  documentItemHashes: null,
};

/**
 * One source through the pipeline: fetch, parse, normalize, store, match topics. Items, memberships and the new
 * validators are committed together, so a failure leaves the store as it was and the next fetch starts over.
 * Never throws: a failure is recorded on the source (with a backoff) and returned.
 */
export async function ingestSource(context: IngestContext, source: Source, run: SourceRun = {}): Promise<SourceOutcome> {
  const { fetches, fetchDuration, itemsStored } = context.metrics;
  const stopTimer = fetchDuration.startTimer();
  const { pushLinks, ...outcome }: FetchOutcome = await ingestSourceOnce(context, source, run).catch((error: Error) => {
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
  itemsStored.inc({ result: 'filtered' }, outcome.itemsFiltered ?? 0);
  // After the fetch's own figures: a request to the hub is not part of the fetch.
  if (pushLinks && context.push) await context.push.afterFetch(source, pushLinks, { known: run.state?.push, signal: context.signal });
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
 * store, record) in order, sharing the fetch's state and one error path.
 */
async function ingestSourceOnce(context: IngestContext, source: Source, run: SourceRun): Promise<FetchOutcome> {
  const { db } = context;
  const startedAt = new Date();
  const elapsed = () => Date.now() - startedAt.getTime();
  const state: PassState =
    run.state ?? (await fetchStates(db, [source.id], new Set(source.adaptivePoll ? [source.id] : []), false)).get(source.id) ?? FRESH_STATE;
  if (state.goneAt) {
    const error = `gone (HTTP 410) since ${state.goneAt.toISOString()}; change its url in the config to poll it again`;
    return { sourceId: source.id, outcome: 'gone', itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0, error };
  }
  const url = state.fetchUrl ?? source.url;
  const record = (fields: Omit<FetchRecord, 'sourceId' | 'startedAt' | 'durationMs'>) =>
    ({ sourceId: source.id, startedAt, durationMs: elapsed(), ...fields }) satisfies FetchRecord;
  // `every: auto`: as often as the source's items came this last week.
  const pollSeconds = source.adaptivePoll ? adaptivePollSeconds(state.recentItems, startedAt, source.pollSeconds, context.minPollSeconds) : source.pollSeconds;
  const succeeded = (hints: CacheHints, feed?: Parameters<typeof nextCheckAt>[0]['feed']) =>
    nextCheckAt({ now: new Date(), pollSeconds, hints, feed, consecutiveErrors: 0, minSeconds: context.minPollSeconds });

  try {
    const response = await fetchFeed(context.http, {
      url,
      etag: state.etag,
      lastModified: state.lastModified,
      network: source.network,
      credentials: source.credentials,
      proxy: source.proxy,
      limits: context.fetchLimits,
      signal: context.signal,
    });
    const { moved, ...redirectState } = trackRedirects(state, response.redirects, response.finalUrl);
    if (moved) log.warn({ source: source.id, url, movedTo: redirectState.fetchUrl }, 'source moved permanently; fetching the new URL from now on');

    if (response.kind === 'not-modified') {
      // Through the store queue too: the records of many 304s share one transaction (and one commit).
      await run.parsed?.();
      const notModified = record({
        outcome: 'not-modified',
        httpStatus: 304,
        itemsNew: 0,
        itemsDuplicate: 0,
        nextCheckAt: succeeded(response.hints),
        state: { ...redirectState, errorCount: 0 },
      });
      await context.store.store({ sourceId: source.id, items: [], topics: context.topics, record: () => notModified });
      log.info({ source: source.id, url, outcome: 'not-modified', ms: elapsed() }, 'fetched');
      const pushLinks = pushLinksOf(response.push, 'unread', response.finalUrl);
      return { sourceId: source.id, outcome: 'not-modified', status: 304, itemsNew: 0, itemsDuplicate: 0, itemsRevised: 0, pushLinks };
    }

    const reading: DocumentReading = {
      sourceId: source.id,
      feedUrl: response.finalUrl,
      fetchedAt: startedAt,
      shortUrlHosts: source.shortUrlHosts,
      limits: context.documentLimits ?? DEFAULT_DOCUMENT_LIMITS,
      filter: source.keep || source.exclude ? JSON.stringify([source.keep ?? null, source.exclude ?? null]) : undefined,
      ...(source.scrape ? { listing: listingReading(context.pages, response.finalUrl, source.scrape) } : {}),
    };
    const hash = documentHasher(reading)(response.text);
    if (hash === state.documentHash) {
      // The same bytes as the last document stored whole: the same items, all stored. Not parsed again.
      await run.parsed?.();
      const unchanged = record({
        outcome: 'ok',
        httpStatus: response.status,
        bytes: response.bytes,
        itemsNew: 0,
        itemsDuplicate: state.documentItems,
        nextCheckAt: succeeded(response.hints, state.documentSchedule ?? undefined),
        state: { ...redirectState, errorCount: 0, etag: response.etag ?? null, lastModified: response.lastModified ?? null },
      });
      await context.store.store({ sourceId: source.id, items: [], topics: context.topics, record: () => unchanged });
      log.info(
        { source: source.id, url, outcome: 'ok', status: response.status, unchanged: true, itemsDuplicate: state.documentItems, ms: elapsed() },
        'fetched',
      );
      const pushLinks = pushLinksOf(response.push, 'unread', response.finalUrl);
      return { sourceId: source.id, outcome: 'ok', status: response.status, itemsNew: 0, itemsDuplicate: state.documentItems, itemsRevised: 0, pushLinks };
    }

    let documentPush: HubLinks | undefined | 'unread' = 'unread';
    const {
      result: stored,
      changedTopics,
      matched,
      filtered,
    } = await readAndStore(db, context.store, response.text, reading, state.documentItemHashes, {
      topics: context.topics,
      parsed: run.parsed,
      ...(source.fullText ? { fullText: (items: NormalizedItem[]) => withFullText(context, source, items) } : {}),
      record: ({ feed, itemCount, itemHashes }, { result }) => {
        documentPush = feed.push;
        return record({
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
            documentHash: feed.truncated ? null : hash,
            documentItems: itemCount,
            documentItemHashes: itemHashes,
            documentSchedule: { ttlMinutes: feed.ttlMinutes, skipHours: feed.skipHours, skipDays: feed.skipDays },
          },
          siteUrl: feed.siteUrl,
        });
      },
    });
    context.metrics.topicMatches.inc(matched);
    if (changedTopics.length > 0) context.onTopicsChanged?.(changedTopics);
    const outcome: SourceOutcome = {
      sourceId: source.id,
      outcome: 'ok',
      status: response.status,
      itemsNew: stored.stored.length,
      itemsDuplicate: stored.duplicates,
      itemsRevised: stored.revised.length,
      ...(filtered > 0 ? { itemsFiltered: filtered } : {}),
    };
    const { sourceId: _, ...counts } = outcome;
    const pushLinks = pushLinksOf(response.push, documentPush, response.finalUrl);
    log.info({ source: source.id, url, ...counts, bytes: response.bytes, encoding: response.encoding, ms: elapsed() }, 'fetched');
    return { ...outcome, pushLinks };
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
      pollSeconds,
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
      await recordFetches(db, [
        record({
          outcome,
          httpStatus: fetchError?.status,
          itemsNew: 0,
          itemsDuplicate: 0,
          error: message,
          nextCheckAt: next,
          state: { errorCount, ...(gone ? { goneAt: new Date() } : {}) },
        }),
      ]);
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
  /** Left out by their sources' `keep` or `exclude` queries. */
  itemsFiltered: number;
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

/**
 * Runs `work` on every input, `concurrency` at a time in input order. Work that calls `parsed` (its document is read
 * and only the store step is left) gives its slot to the next input while it waits on the store queue; up to
 * `concurrency` may wait so, which bounds the parsed documents held in memory. Fetching and parsing go on while the
 * queue writes.
 */
export async function pipelined<T>(inputs: readonly T[], concurrency: number, work: (input: T, parsed: () => Promise<void>) => Promise<void>): Promise<void> {
  const fetching = new Semaphore(concurrency);
  const storing = new Semaphore(concurrency);
  await Promise.all(
    inputs.map(async (input) => {
      const releaseFetching = await fetching.acquire();
      let releaseStoring: (() => void) | undefined;
      try {
        await work(input, async () => {
          releaseStoring ??= await storing.acquire();
          releaseFetching();
        });
      } finally {
        releaseFetching();
        releaseStoring?.();
      }
    }),
  );
}

/** Sources whose fetch states one query reads: a pass over thousands of sources holds a few chunks of states. */
const STATES_PER_READ = 200;

/**
 * The states of a pass's sources, by index, read a chunk at a time when the pass reaches the chunk (one query per
 * chunk, not per source) and let go once each of its sources took its state: a state carries the item hashes of the
 * source's last document, and `ingest --once` over thousands of large feeds would otherwise hold them all.
 */
export function statesInChunks<State>(
  read: (ids: readonly string[]) => Promise<Map<string, State>>,
  ids: readonly string[],
  perRead = STATES_PER_READ,
): (index: number) => Promise<State | undefined> {
  const chunks = new Map<number, { states: Promise<Map<string, State>>; left: number }>();
  return async (index) => {
    const number = Math.floor(index / perRead);
    let chunk = chunks.get(number);
    if (!chunk) {
      const chunkIds = ids.slice(number * perRead, (number + 1) * perRead);
      chunk = { states: read(chunkIds), left: chunkIds.length };
      chunks.set(number, chunk);
    }
    if (--chunk.left === 0) chunks.delete(number);
    return (await chunk.states).get(ids[index]!);
  };
}

/** Runs every source through the pipeline (see pipelined). Skipped sources are counted, not ingested. */
export async function ingestSources(context: IngestContext, sources: readonly Source[], options: IngestOptions = {}): Promise<IngestSummary> {
  const outcomes: SourceOutcome[] = [];
  let skipped = 0;
  const bar = (options.progress ?? silentProgress)('ingest', sources.length, 'sources');
  // Unreachable database: each source then reads its own state, fails and is deferred, as it would have anyway.
  const adaptive = new Set(sources.filter((source) => source.adaptivePoll).map((source) => source.id));
  const readStates = (ids: readonly string[]) =>
    fetchStates(context.db, ids, adaptive, context.push !== undefined).catch((error: Error) => {
      if (isDatabaseUnavailable(error)) return new Map<string, PassState>();
      throw error;
    });
  const stateOf = statesInChunks(
    readStates,
    sources.map((source) => source.id),
  );
  const numbered = sources.map((source, index) => ({ source, index }));
  await pipelined(numbered, options.concurrency ?? 8, async ({ source, index }, parsed) => {
    const state = await stateOf(index);
    if (options.shouldStart && !(await options.shouldStart(source))) skipped++;
    else outcomes.push(await ingestSource(context, source, { parsed, state }));
    bar.advance(1, source.id);
  });
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
    itemsFiltered: outcomes.reduce((sum, outcome) => sum + (outcome.itemsFiltered ?? 0), 0),
    outcomes,
  };
}
