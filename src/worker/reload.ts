/**
 * Reading a source's stored items again by its full-text rules (`wirefeed sources reload`): after full text was turned
 * on, or its `select`/`remove` rules were mended, the pages of the source's newest stored items are read again, and an
 * article that takes the place of an item's text revises the item through the store step: its row, fingerprint and
 * bands rewritten in place, filed under the topics its new text matches. Its story and timestamp stay. Short items
 * are read as full text would have read them; `all` reads every item's page.
 */

import { itemKey } from '../dedup/key.js';
import { FetchError } from '../fetch/index.js';
import { log } from '../log.js';
import type { NormalizedItem } from '../model/item.js';
import { type ProgressFactory, silentProgress } from '../model/progress.js';
import { DEFAULT_DOCUMENT_LIMITS } from '../model/settings.js';
import type { Source } from '../model/source.js';
import type { Article } from '../normalize/article.js';
import { type KeptItem, newestItemsOf } from '../store/items.js';
import { articleReplaces, type FullTextContext, hasPage, itemText, readArticlePage, SHORT_TEXT_CHARS, withArticle } from './full-text.js';
import type { IngestContext } from './ingest.js';

/** Pages read at a time, and stored as one document: the per-host limit paces the fetches within it. */
const PAGES_PER_ROUND = 25;

/**
 * What reading an item again came to:
 * - `revised`: its page's article took the place of its text;
 * - `unchanged`: the article is the text stored;
 * - `no-article`: the page holds none that takes the place of the stored text (none found, not longer, too large);
 * - `failed`: the page could not be fetched;
 * - `not-short`: its stored text is not short, and only short items were read;
 * - `no-page`: it links no web page;
 * - `moved`: its fields no longer give the key it is stored under (a link read by older rules): revising it would
 *   store a second item;
 * - `superseded`: a fetch revised it while its page was read: the newer version stays.
 */
export type ReloadOutcome = 'revised' | 'unchanged' | 'no-article' | 'failed' | 'not-short' | 'no-page' | 'moved' | 'superseded';

export interface ReloadedItem {
  title: string;
  url?: string;
  outcome: ReloadOutcome;
  /** The stored text's length, in characters. */
  chars: number;
  /** The article's, where the page held one. */
  articleChars?: number;
  error?: string;
}

export interface ReloadReport {
  sourceId: string;
  dryRun: boolean;
  items: ReloadedItem[];
  counts: Record<ReloadOutcome, number>;
}

export interface ReloadOptions {
  /** The newest items considered. */
  limit: number;
  /** Read every item's page, not only the short ones'. */
  all?: boolean;
  /** Read the pages and report, but store nothing. */
  dryRun?: boolean;
  progress?: ProgressFactory;
}

export type ReloadContext = FullTextContext & Pick<IngestContext, 'store' | 'topics' | 'onTopicsChanged'>;

/** Why a stored item's page is not read again, or undefined when it is. */
export function skipReason(kept: KeptItem, sourceId: string, all: boolean): ReloadOutcome | undefined {
  if (!hasPage(kept.item)) return 'no-page';
  if (itemKey(kept.item, sourceId) !== kept.dedupKey) return 'moved';
  if (!all && itemText(kept.item).length >= SHORT_TEXT_CHARS) return 'not-short';
  return undefined;
}

/**
 * What a page's article does to a stored item. A short item takes an article longer than its text, as full text
 * takes one. Read again by every page (`all`), an article stored before may give way to a shorter one (mended rules
 * that no longer take in the comments), but not to one no longer than the feed's own summary.
 */
export function reloadOutcome(item: NormalizedItem, article: Article | undefined, all: boolean, maxItemChars: number): 'revised' | 'unchanged' | 'no-article' {
  const text = itemText(item);
  if (article && (article.html === item.contentHtml || article.text === text)) return 'unchanged';
  return articleReplaces(article, all ? (item.summary?.length ?? 0) : text.length, maxItemChars) ? 'revised' : 'no-article';
}

interface ReadAgain {
  report: ReloadedItem;
  /** The item with its article, to store, and the content hash of the version it was read from. */
  revised?: { item: NormalizedItem; from: string };
}

async function readAgain(context: ReloadContext, source: Source, kept: KeptItem & { item: { url: string } }, all: boolean): Promise<ReadAgain> {
  const { item } = kept;
  const report: ReloadedItem = { title: item.title, url: item.url, outcome: 'no-article', chars: itemText(item).length };
  let article: Article | undefined;
  try {
    article = (await readArticlePage(context, source, item.url, source.fullText))?.article;
  } catch (error) {
    if (error instanceof FetchError && error.kind === 'aborted') throw error;
    return { report: { ...report, outcome: 'failed', error: (error as Error).message } };
  }
  report.outcome = reloadOutcome(item, article, all, (context.documentLimits ?? DEFAULT_DOCUMENT_LIMITS).maxItemChars);
  if (article) report.articleChars = article.text.length;
  return report.outcome === 'revised' ? { report, revised: { item: withArticle(item, article!), from: kept.contentHash } } : { report };
}

/**
 * Reads the pages of a source's newest stored items again by its full-text rules and revises the items whose article
 * takes the place of their text (unless `dryRun`). Pages that fail are reported, not thrown; the store's failure is.
 */
export async function reloadArticles(context: ReloadContext, source: Source, options: ReloadOptions): Promise<ReloadReport> {
  const all = options.all === true;
  const report: ReloadReport = { sourceId: source.id, dryRun: options.dryRun === true, items: [], counts: emptyCounts() };
  const toRead: Array<KeptItem & { item: { url: string } }> = [];
  for (const kept of await newestItemsOf(context.db, source.id, options.limit)) {
    const skipped = skipReason(kept, source.id, all);
    if (skipped) report.items.push({ title: kept.item.title, url: kept.item.url, outcome: skipped, chars: itemText(kept.item).length });
    else toRead.push(kept as KeptItem & { item: { url: string } });
  }
  const bar = (options.progress ?? silentProgress)(`reload ${source.id}`, toRead.length, 'pages');
  for (let start = 0; start < toRead.length; start += PAGES_PER_ROUND) {
    const read = await Promise.all(toRead.slice(start, start + PAGES_PER_ROUND).map((kept) => readAgain(context, source, kept, all)));
    bar.advance(read.length);
    if (!report.dryRun) await storeRevised(context, source.id, read);
    report.items.push(...read.map(({ report: item }) => item));
  }
  bar.finish();
  for (const item of report.items) report.counts[item.outcome]++;
  log.info({ source: source.id, dryRun: report.dryRun, ...report.counts }, 'articles reloaded');
  return report;
}

/** Stores a round's revised items as one document; one the store left as it was (a fetch revised it meanwhile) says so. */
async function storeRevised(context: ReloadContext, sourceId: string, read: ReadAgain[]): Promise<void> {
  const revised = read.flatMap(({ revised }) => (revised ? [revised] : []));
  if (revised.length === 0) return;
  const reread = new Map(revised.map(({ item, from }) => [item, from]));
  const stored = await context.store.store({ sourceId, items: [...reread.keys()], topics: context.topics, reread });
  const written = new Set(stored.result.revised.map(({ item }) => item));
  for (const entry of read) if (entry.revised && !written.has(entry.revised.item)) entry.report.outcome = 'superseded';
  if (stored.changedTopics.length > 0) context.onTopicsChanged?.(stored.changedTopics);
}

const emptyCounts = (): Record<ReloadOutcome, number> => ({
  revised: 0,
  unchanged: 0,
  'no-article': 0,
  failed: 0,
  'not-short': 0,
  'no-page': 0,
  moved: 0,
  superseded: 0,
});
