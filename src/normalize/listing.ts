/**
 * The items of a web page that lists news without a feed (a wire service's "latest" page, a ministry's press
 * releases): each element matching the source's `scrape.items` selector is an item, its headline, link, date and the
 * rest found inside it (see ScrapeRules). What FreshRSS calls an "HTML + XPath" feed, with CSS selectors. Read in
 * the page reader's thread, bounded as article pages are; the items then go through the normalizer as a feed's do.
 */
import { ZoneDays } from '../model/days.js';
import type { ScrapeRules } from '../model/source.js';
import { FeedParseError, type ParsedFeed, type ParsedItem } from '../parse/index.js';
import { type PageElement, pageDocument } from './article.js';
import { type PageDateReading, parsePageDate, parseRelativePageDate } from './date.js';

/** Elements a listing page may have: a portal's front page with its menus has ten or twenty thousand. */
export const MAX_LISTING_ELEMENTS = 30_000;

const HEADING = 'h1, h2, h3, h4, h5, h6';

/** The item element itself when it matches `selector`, else its first descendant that does. */
function within(item: PageElement, selector: string): PageElement | null {
  return item.matches(selector) ? item : item.querySelector(selector);
}

/** An element's text as one line. */
const lineOf = (element: PageElement | null | undefined) => (element?.textContent ?? '').replace(/\s+/g, ' ').trim();

/** The <a href> that is `element`, or the first inside it. */
function anchorOf(element: PageElement | null): PageElement | null {
  if (!element) return null;
  return element.matches('a[href]') ? element : element.querySelector('a[href]');
}

function imageOf(element: PageElement | null): string | undefined {
  const image = element?.matches('img') ? element : element?.querySelector('img');
  // Lazy-loading pages keep the real address in data-src and a placeholder in src.
  return image?.getAttribute('data-src') || image?.getAttribute('src') || undefined;
}

/** The headline where pages usually put it: the first heading, else the link's text, title or image description. */
function defaultTitle(item: PageElement, anchor: PageElement | null): string | undefined {
  return (
    lineOf(item.querySelector(HEADING)) ||
    lineOf(anchor) ||
    anchor?.getAttribute('title') ||
    anchor?.querySelector('img[alt]')?.getAttribute('alt') ||
    undefined
  );
}

/** What the page writes as the item's date: an attribute meant for machines, else the text. */
function dateTextOf(element: PageElement | null): string | undefined {
  if (!element) return undefined;
  return element.getAttribute('datetime') || element.getAttribute('content') || lineOf(element) || undefined;
}

/** Links that lead to no page of their own: this page's fragments and scripts ("#", "javascript:void(0)"). */
const NOT_A_PAGE = /^(#|javascript:)/i;

/** One item element as a feed item, or undefined when it has no link to a page (nothing to identify it by). */
function listedItem(item: PageElement, rules: ScrapeRules, dates: PageDates): ParsedItem | undefined {
  const anchor = anchorOf(rules.link ? within(item, rules.link) : item);
  const link = anchor?.getAttribute('href')?.trim();
  if (!link || NOT_A_PAGE.test(link)) return undefined;
  const title = rules.title ? lineOf(within(item, rules.title)) : defaultTitle(item, anchor);
  const date = dates.read(dateTextOf(rules.date ? within(item, rules.date) : item.querySelector('time')));
  const approximate = date?.approximate === true;
  const summary = rules.summary ? within(item, rules.summary)?.innerHTML.trim() : undefined;
  const image = rules.image ? imageOf(within(item, rules.image)) : undefined;
  const author = rules.author ? lineOf(within(item, rules.author)) : undefined;
  return {
    link,
    titleType: 'text',
    ...(title ? { title } : {}),
    ...(summary ? { summaryHtml: summary } : {}),
    dates: date ? [date.iso] : [],
    ...(approximate ? { dateApproximate: true } : {}),
    ...(author ? { author } : {}),
    categories: [],
    ...(image ? { imageUrl: image } : {}),
  };
}

/**
 * The elements not inside another of them (in document order, one inside an earlier one is inside the last one kept):
 * an item's parts are looked for in its own elements only, so reading every item reads each element of the page once
 * however the selector nests (`items: div` on a page of nested divs).
 */
function outermost(elements: PageElement[]): PageElement[] {
  const kept: PageElement[] = [];
  for (const element of elements) if (!kept.at(-1)?.contains(element)) kept.push(element);
  return kept;
}

/**
 * Page dates read as instants (ISO 8601, as the normalizer reads feed dates), in the zone of the page's clock: dates,
 * else dates relative to the fetch ("3 hours ago", "08:06"), marked approximate. Those that are neither are counted,
 * and the first kept, for the operator.
 */
class PageDates {
  unread = 0;
  example: string | undefined;
  private readonly reading: PageDateReading;

  constructor({ timeZone, dateOrder }: ScrapeRules, now: Date) {
    this.reading = { now, ...(timeZone ? { zone: new ZoneDays(timeZone) } : {}), ...(dateOrder ? { order: dateOrder } : {}) };
  }

  read(text: string | undefined): { iso: string; approximate: boolean } | undefined {
    if (text === undefined) return undefined;
    const date = parsePageDate(text, this.reading);
    if (date) return { iso: date.toISOString(), approximate: false };
    const relative = parseRelativePageDate(text, this.reading);
    if (relative) return { iso: relative.toISOString(), approximate: true };
    this.unread++;
    this.example ??= text.slice(0, 80);
    return undefined;
  }
}

/**
 * The page's items in page order, each link once (a front page repeats its top story); dates without a year are in
 * the year at `now`. Throws FeedParseError, saying what the operator can change, when the page cannot be read or its
 * selectors find nothing.
 */
export function readListing(page: string, rules: ScrapeRules, now = new Date()): ParsedFeed {
  const document = pageDocument(page, MAX_LISTING_ELEMENTS);
  if (!document) throw new FeedParseError(`not read: the page nests deeper than any real page or has more than ${MAX_LISTING_ELEMENTS} elements`);
  const found = outermost([...document.querySelectorAll(rules.items)]);
  if (found.length === 0) throw new FeedParseError(`no element on the page matches scrape.items '${rules.items}'`);
  const items: ParsedItem[] = [];
  const links = new Set<string>();
  let unlinked = 0;
  const dates = new PageDates(rules, now);
  for (const element of found) {
    const item = listedItem(element, rules, dates);
    if (!item) unlinked++;
    else if (!links.has(item.link!)) {
      links.add(item.link!);
      items.push(item);
    }
  }
  const which = rules.link ? `scrape.link '${rules.link}'` : 'an <a href>';
  if (items.length === 0) throw new FeedParseError(`${found.length} elements match scrape.items '${rules.items}', but none holds ${which}`);
  const warnings = [
    ...(unlinked > 0 ? [`${unlinked} of ${found.length} elements matching scrape.items have no link: left out`] : []),
    ...(dates.unread > 0 ? [`${dates.unread} items' dates are not dates Wirefeed reads (such as "${dates.example}"): filed when first seen`] : []),
  ];
  const title = lineOf(document.querySelector('title'));
  const language = document.documentElement?.getAttribute('lang')?.trim();
  const base = document.querySelector('base[href]')?.getAttribute('href')?.trim();
  return {
    format: 'html',
    ...(title ? { title } : {}),
    ...(language ? { language } : {}),
    ...(base ? { baseUrl: base } : {}),
    items,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}
