/**
 * Full text for the sources that ask for it (`fullText: true`): before a document's items are stored, the page of
 * each new item whose feed text is short is fetched, through the same HTTP client as feeds (the source's address
 * policy on every hop, the per-host limit, the deadlines), and the article read from it replaces the feed's text.
 * Topics then match, clustering compares and readers read the whole story. A page that fails or holds no article
 * leaves the item as the feed gave it.
 */

import { itemKey } from '../dedup/key.js';
import { FetchError, fetchFeed } from '../fetch/index.js';
import { log } from '../log.js';
import type { NormalizedItem } from '../model/item.js';
import { DEFAULT_DOCUMENT_LIMITS, DEFAULT_FETCH_LIMITS } from '../model/settings.js';
import type { ArticleRules, Source } from '../model/source.js';
import { isWebLink } from '../model/urls.js';
import type { Article } from '../normalize/article.js';
import { storedVersionTimes } from '../store/items.js';
import type { IngestContext } from './ingest.js';

/** Feed text shorter than this (in characters: a headline's lede and a line or two, in any script) is short. */
export const SHORT_TEXT_CHARS = 700;
/** Pages fetched for one document at most (a first fetch of a long feed); the rest keep their feed text. */
export const MAX_ARTICLES_PER_DOCUMENT = 50;
/** The largest article page read; a news page is rarely a tenth of it. */
const MAX_ARTICLE_BYTES = 2 * 1024 * 1024;

/** What reading in articles needs of the ingest pipeline's context. */
export type FullTextContext = Pick<IngestContext, 'db' | 'http' | 'pages' | 'metrics' | 'fetchLimits' | 'documentLimits' | 'signal'>;

export interface FullText {
  /** The items to store, with the articles read in. */
  items: NormalizedItem[];
  /** Items left out as already stored (with their article, or their feed text) and not newer: duplicates. */
  duplicates: number;
}

/** The text full text weighs an article against: the item's content text, else its summary. */
export const itemText = (item: NormalizedItem): string => item.contentText ?? item.summary ?? '';

/** Whether a page's article takes the place of an item's text: longer than `chars` characters, and an item's size. */
export const articleReplaces = (article: Article | undefined, chars: number, maxItemChars: number): article is Article =>
  article !== undefined && article.text.length > chars && article.html.length <= maxItemChars;

/** An item with a page's article as its text (sanitized HTML, and that HTML's own text). */
export const withArticle = (item: NormalizedItem, article: Article): NormalizedItem => ({
  ...item,
  contentHtml: article.html,
  contentText: article.text,
  textFromHtml: true,
});

/** Whether an item links a web page full text can read. */
export const hasPage = (item: NormalizedItem): item is NormalizedItem & { url: string } => isWebLink(item.url);

/** An article page read: where it ended up (after redirects) and its article, if it has one. */
export interface ArticlePage {
  finalUrl: string;
  article: Article | undefined;
}

/**
 * Fetches the page at `url` as `source` fetches (its address policy and credentials, the feed's limits but a page's
 * size cap) and reads its article by `rules`; a failed fetch throws its FetchError. Full text and `wirefeed article`.
 */
export async function readArticlePage(
  context: Pick<FullTextContext, 'http' | 'pages' | 'fetchLimits' | 'signal'>,
  source: Pick<Source, 'network' | 'credentials' | 'proxy'>,
  url: string,
  rules: ArticleRules = {},
): Promise<ArticlePage | undefined> {
  // The feed's limits (fetchFeed fills in the defaults), but a page's size cap.
  const maxBytes = Math.min(context.fetchLimits?.maxBytes ?? DEFAULT_FETCH_LIMITS.maxBytes, MAX_ARTICLE_BYTES);
  const page = await fetchFeed(context.http, {
    url,
    network: source.network,
    credentials: source.credentials,
    proxy: source.proxy,
    limits: { ...context.fetchLimits, maxBytes },
    ...(context.signal ? { signal: context.signal } : {}),
  });
  if (page.kind !== 'ok') return undefined;
  return { finalUrl: page.finalUrl, article: await context.pages.read(page.text, page.finalUrl, rules) };
}

/**
 * The article at the item's page, when there is one longer than its feed text. Failures are logged, not thrown, but
 * for shutdown's abort.
 */
async function articleOf(context: FullTextContext, source: Source, item: NormalizedItem): Promise<Article | undefined> {
  try {
    const article = (await readArticlePage(context, source, item.url!, source.fullText))?.article;
    if (!articleReplaces(article, itemText(item).length, (context.documentLimits ?? DEFAULT_DOCUMENT_LIMITS).maxItemChars)) {
      log.debug({ source: source.id, url: item.url }, 'no article on the page longer than the feed text; keeping the feed text');
      context.metrics.articlePages.inc({ result: 'none' });
      return undefined;
    }
    context.metrics.articlePages.inc({ result: 'article' });
    return article;
  } catch (error) {
    // Shutting down: the whole document is abandoned, as its feed's fetch would be, rather than stored without articles.
    if (error instanceof FetchError && error.kind === 'aborted') throw error;
    log.warn({ source: source.id, url: item.url, error: (error as Error).message }, 'article page not fetched; keeping the feed text');
    context.metrics.articlePages.inc({ result: 'failed' });
    return undefined;
  }
}

/**
 * Reads in the articles of a document's short new items. An item already stored is left out (a duplicate) unless
 * this is a newer version of it: its stored text is its article, which the feed's short text must not overwrite.
 */
/** An item whose feed text is short and which has a page: a source with `fullText` reads its article. */
export const wantsArticle = (item: NormalizedItem): boolean => hasPage(item) && itemText(item).length < SHORT_TEXT_CHARS;

export async function withFullText(context: FullTextContext, source: Source, items: readonly NormalizedItem[]): Promise<FullText> {
  const short = items.filter(wantsArticle);
  if (short.length === 0) return { items: [...items], duplicates: 0 };
  const stored = await storedVersionTimes(
    context.db,
    short.map((item) => itemKey(item, source.id)),
  );
  const known = new Set(
    short.filter((item) => {
      const at = stored.get(itemKey(item, source.id));
      // An undated item is filed at the time it was first seen: only a changed text revises it, and that is ours.
      return at !== undefined && (item.dateEstimated || item.publishedAt <= at);
    }),
  );
  const wanted = short.filter((item) => !known.has(item)).slice(0, MAX_ARTICLES_PER_DOCUMENT);
  const articles = new Map(await Promise.all(wanted.map(async (item) => [item, await articleOf(context, source, item)] as const)));
  const read = [...articles.values()].filter(Boolean).length;
  if (wanted.length > 0) log.info({ source: source.id, pages: wanted.length, articles: read }, 'full text read');
  return {
    items: items
      .filter((item) => !known.has(item))
      .map((item) => {
        const article = articles.get(item);
        return article ? withArticle(item, article) : item;
      }),
    duplicates: known.size,
  };
}
