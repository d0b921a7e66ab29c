import { stripXmlForbidden } from '../model/escape.js';
import type { Enclosure, NormalizedItem } from '../model/item.js';
import type { ParsedFeed, ParsedItem } from '../parse/index.js';
import { resolveItemDate } from './date.js';
import { excerpt, htmlToLine, htmlToText, plainTitle, sanitizeContent } from './html.js';
import { guessLanguage, primaryLanguage } from './language.js';
import { canonicalizeUrl, isShortUrl, resolveHttpUrl } from './url.js';

/** More than any real item carries; a feed listing hundreds per item is cut here. */
const MAX_ENCLOSURES = 20;

export interface NormalizeContext {
  /** URL the document was fetched from. */
  feedUrl: string;
  fetchedAt: Date;
  shortUrlHosts: readonly string[];
}

const MAX_TITLE_LENGTH = 500;
/** Longer links are not kept as an item's identity: index entries cannot hold them, and no real article needs one. */
export const MAX_URL_LENGTH = 2_000;
/** Bidirectional overrides, embeddings and isolates: in a title they reorder what readers see (visual spoofing). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

const withoutBidi = (text: string) => text.replace(BIDI_CONTROLS, '');
/** An e-mail address as feeds write one beside a name: no spaces, an "@" (linear: the first part holds no "@"). */
const EMAIL = /^[^\s@]+@\S+$/;

/**
 * A person's name from the forms RSS puts in <author>: "jiji@example.com (JIJI Press)", "JIJI Press (jiji@example.com)",
 * "JIJI Press <jiji@example.com>". Read by the last bracket rather than by one pattern: patterns for these forms
 * backtrack over long runs of spaces or "@" (a 48 KB author took seconds).
 */
export function authorName(author: string): string {
  const text = author.trim();
  const close = text.at(-1);
  const open = close === ')' ? text.lastIndexOf('(') : close === '>' ? text.lastIndexOf('<') : -1;
  if (open <= 0) return author;
  const inside = text.slice(open + 1, -1).trim();
  const outside = text.slice(0, open).trim();
  const brackets = close === ')' ? /[()]/ : /[<>]/;
  if (!outside || brackets.test(outside) || brackets.test(inside)) return author;
  if (EMAIL.test(inside)) return outside;
  return close === ')' && EMAIL.test(outside) && inside ? inside : author;
}

const keptUrl = (url: string | undefined) => (url && url.length <= MAX_URL_LENGTH ? url : undefined);

/**
 * The item with every text made storable: no NUL (Postgres text cannot hold it), no other control characters or lone
 * surrogates (XML cannot carry them, so they could never be published).
 */
function storableItem(item: ParsedItem): ParsedItem {
  const clean = (text: string | undefined) => (text === undefined ? undefined : stripXmlForbidden(text));
  // Object.assign, not a spread: spreading a parsed item into a literal with more properties took V8's slow path.
  return Object.assign({}, item, {
    guid: clean(item.guid),
    link: clean(item.link),
    shortLink: clean(item.shortLink),
    title: clean(item.title),
    contentHtml: clean(item.contentHtml),
    summaryHtml: clean(item.summaryHtml),
    contentText: clean(item.contentText),
    dates: item.dates.map((date) => stripXmlForbidden(date)),
    author: clean(item.author),
    categories: item.categories.map((category) => stripXmlForbidden(category)),
    language: clean(item.language),
    imageUrl: clean(item.imageUrl),
    enclosures: item.enclosures?.map((enclosure) => ({
      ...enclosure,
      url: stripXmlForbidden(enclosure.url),
      ...(enclosure.type ? { type: stripXmlForbidden(enclosure.type) } : {}),
    })),
  });
}

/** The plain text a store keeps of an item: none where it is its HTML's own text (textFromHtml), read back from it. */
export const ownContentText = (item: NormalizedItem): string | undefined => (item.textFromHtml ? undefined : item.contentText);

/**
 * An item's plain text as a store kept it: its own (ownContentText), or, stored without, its HTML's read back the way
 * normalizeItem read it. Null when it has none.
 */
export const storedContentText = (contentHtml: string | null, contentText: string | null): string | null =>
  contentText ?? (contentHtml ? htmlToText(contentHtml) || null : null);

/** The base that relative links in the document resolve against: xml:base, else the feed URL, else the site URL. */
export function documentBase(feed: ParsedFeed, feedUrl: string): string | undefined {
  const httpFeedUrl = resolveHttpUrl(feedUrl);
  const siteUrl = resolveHttpUrl(feed.siteUrl, httpFeedUrl);
  const fallback = httpFeedUrl ?? siteUrl;
  return resolveHttpUrl(feed.baseUrl, fallback) ?? fallback;
}

export function normalizeItem(parsed: ParsedItem, feed: ParsedFeed, context: NormalizeContext): NormalizedItem {
  const item = storableItem(parsed);
  const documentUrl = documentBase(feed, context.feedUrl);
  const base = resolveHttpUrl(item.baseUrl, documentUrl) ?? documentUrl;
  const link = resolveHttpUrl(item.link, base);
  // A guid is a link only when it says so and is absolute: "207073" is not a page of the feed's site.
  const guidUrl = item.guidIsLink ? resolveHttpUrl(item.guid) : undefined;
  const shortCandidates = [item.shortLink, item.guid, item.link]
    .map((candidate) => resolveHttpUrl(candidate, base))
    .filter((candidate): candidate is string => !!candidate && isShortUrl(candidate, context.shortUrlHosts));
  const shortUrl = keptUrl(shortCandidates[0] ? canonicalizeUrl(shortCandidates[0]) : undefined);
  // The page URL: the link unless it is itself the short link, else a guid that is a full URL.
  const pageUrl = [link, guidUrl].find((candidate) => candidate && !isShortUrl(candidate, context.shortUrlHosts));
  const url = keptUrl(pageUrl ? canonicalizeUrl(pageUrl) : undefined);

  const contentBase = url ?? base;
  const contentHtml = item.contentHtml ? sanitizeContent(item.contentHtml, contentBase) : undefined;
  const summaryHtml = item.summaryHtml ? sanitizeContent(item.summaryHtml, contentBase) : undefined;
  const contentText = contentHtml ? htmlToText(contentHtml) : item.contentText?.trim();
  const summaryText = summaryHtml ? htmlToText(summaryHtml) : undefined;
  const summary = summaryText || (contentText ? excerpt(contentText) : undefined);
  const title =
    (item.title ? plainTitle(item.title, item.titleType) : '') || (contentText || summary ? excerpt(contentText || summary!, 80) : '') || '(untitled)';
  const resolved = resolveItemDate(item.dates, context.fetchedAt);
  const html = contentHtml || summaryHtml || undefined;
  const text = contentText || summaryText || undefined;
  // htmlToText(html), worked out above: the content's text, else the summary's.
  const textOfHtml = contentHtml ? contentText : summaryText;

  return {
    guid: item.guid?.trim() || undefined,
    url,
    shortUrl,
    title: withoutBidi(title).slice(0, MAX_TITLE_LENGTH),
    summary: summary || undefined,
    contentHtml: html,
    contentText: text,
    textFromHtml: text !== undefined && text === textOfHtml,
    author: item.author ? authorName(withoutBidi(htmlToLine(item.author))) || undefined : undefined,
    categories: [...new Set(item.categories.map((category) => withoutBidi(htmlToLine(category))).filter(Boolean))],
    language: primaryLanguage(item.language) ?? guessLanguage(`${title}\n${contentText ?? summary ?? ''}`),
    imageUrl: resolveHttpUrl(item.imageUrl, contentBase),
    enclosures: (item.enclosures ?? [])
      .map((enclosure) => ({ ...enclosure, url: keptUrl(resolveHttpUrl(enclosure.url, contentBase)) }))
      .filter((enclosure): enclosure is Enclosure => enclosure.url !== undefined)
      .slice(0, MAX_ENCLOSURES),
    publishedAt: resolved.date,
    dateEstimated: resolved.estimated || item.dateApproximate === true,
  };
}
