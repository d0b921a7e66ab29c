/**
 * The items of a web page that lists news without a feed (a wire service's "latest" page, a ministry's press
 * releases): each element matching the source's `scrape.items` selector is an item, its headline, link, date and the
 * rest found inside it (see ScrapeRules). What FreshRSS calls an "HTML + XPath" feed, with CSS selectors. Read in
 * the page reader's thread, bounded as article pages are; the items then go through the normalizer as a feed's do.
 */
import { ZoneDays } from '../model/days.js';
import type { ScrapeRules } from '../model/source.js';
import { FeedParseError, looksLikeJson, type ParsedFeed, type ParsedItem } from '../parse/index.js';
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

/** What a listing's rules found of one item. */
export interface ListedParts {
  link: string | undefined;
  title?: string | undefined;
  /** HTML (plain text is HTML too): the normalizer sanitizes it as a feed's. */
  summary?: string | undefined;
  date?: PageDate | undefined;
  image?: string | undefined;
  author?: string | undefined;
  categories?: string[] | undefined;
}

/** Categories one listed item keeps at most: a tag cloud is not its categories. */
export const MAX_LISTED_CATEGORIES = 20;

/** An item of a listing as a feed item, or undefined when it has no link to a page (nothing to identify it by). */
export function listedItem({ link, title, summary, date, image, author, categories = [] }: ListedParts): ParsedItem | undefined {
  if (!link || NOT_A_PAGE.test(link)) return undefined;
  return {
    link,
    titleType: 'text',
    ...(title ? { title } : {}),
    ...(summary ? { summaryHtml: summary } : {}),
    dates: date ? [date.iso] : [],
    ...(date?.approximate ? { dateApproximate: true } : {}),
    ...(author ? { author } : {}),
    categories: categories.slice(0, MAX_LISTED_CATEGORIES),
    ...(image ? { imageUrl: image } : {}),
  };
}

/** One item element's parts, found by the rules. */
function elementParts(item: PageElement, rules: ScrapeRules, dates: PageDates): ListedParts {
  const anchor = anchorOf(rules.link ? within(item, rules.link) : item);
  const link = anchor?.getAttribute('href')?.trim();
  if (!link) return { link }; // left out: its other parts are not read (nor its date counted)
  return {
    link,
    title: rules.title ? lineOf(within(item, rules.title)) : defaultTitle(item, anchor),
    summary: rules.summary ? within(item, rules.summary)?.innerHTML.trim() : undefined,
    date: dates.read(dateTextOf(rules.date ? within(item, rules.date) : item.querySelector('time'))),
    image: rules.image ? imageOf(within(item, rules.image)) : undefined,
    author: rules.author ? lineOf(within(item, rules.author)) : undefined,
    categories: rules.categories ? categoriesOf(item, rules.categories) : undefined,
  };
}

/** The texts of the item's elements matching `selector` (the item itself too, when it does). */
function categoriesOf(item: PageElement, selector: string): string[] {
  const found = [...(item.matches(selector) ? [item] : []), ...item.querySelectorAll(selector)].slice(0, MAX_LISTED_CATEGORIES);
  return found.map(lineOf).filter(Boolean);
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

/** A listed item's date as an instant, and whether it was read relative to the fetch ("3 hours ago"). */
export interface PageDate {
  iso: string;
  approximate: boolean;
}

/**
 * Page dates read as instants (ISO 8601, as the normalizer reads feed dates), in the zone of the page's clock: dates,
 * else dates relative to the fetch ("3 hours ago", "08:06"), marked approximate. Those that are neither are counted,
 * and the first kept, for the operator.
 */
export class PageDates {
  unread = 0;
  example: string | undefined;
  private readonly reading: PageDateReading;

  constructor({ timeZone, dateOrder }: ScrapeRules, now: Date) {
    this.reading = { now, ...(timeZone ? { zone: new ZoneDays(timeZone) } : {}), ...(dateOrder ? { order: dateOrder } : {}) };
  }

  read(text: string | undefined): PageDate | undefined {
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
  // A JSON API read as a web page finds no elements: say what would read it instead.
  if (looksLikeJson(page)) throw new FeedParseError('the document is JSON, not a web page: read it with scrape.format: json and dot paths');
  const document = pageDocument(page, MAX_LISTING_ELEMENTS);
  if (!document) throw new FeedParseError(`not read: the page nests deeper than any real page or has more than ${MAX_LISTING_ELEMENTS} elements`);
  const found = outermost([...document.querySelectorAll(rules.items)]);
  if (found.length === 0) throw new FeedParseError(`no element on the page matches scrape.items '${rules.items}'`);
  const dates = new PageDates(rules, now);
  const which = rules.link ? `scrape.link '${rules.link}'` : 'an <a href>';
  const listed = listedOnce(
    found.map((element) => listedItem(elementParts(element, rules, dates))),
    dates,
    { found: `elements match scrape.items '${rules.items}'`, noLink: `none holds ${which}`, unlinked: 'elements matching scrape.items have no link' },
  );
  const title = lineOf(document.querySelector('title'));
  const language = document.documentElement?.getAttribute('lang')?.trim();
  const base = document.querySelector('base[href]')?.getAttribute('href')?.trim();
  return {
    format: 'html',
    ...(title ? { title } : {}),
    ...(language ? { language } : {}),
    ...(base ? { baseUrl: base } : {}),
    ...listed,
  };
}

/** How a listing's messages name what its rules found: "elements match scrape.items 'li'", and the rest. */
export interface ListingWords {
  found: string;
  noLink: string;
  unlinked: string;
}

/**
 * A listing's items, in order, each link once (a front page repeats its top story), from one candidate per thing
 * `items` found (undefined where it has no link), with the warnings the operator reads. Throws FeedParseError when
 * none has a link.
 */
export function listedOnce(candidates: ReadonlyArray<ParsedItem | undefined>, dates: PageDates, words: ListingWords): Pick<ParsedFeed, 'items' | 'warnings'> {
  const items: ParsedItem[] = [];
  const links = new Set<string>();
  let unlinked = 0;
  for (const item of candidates) {
    if (!item) unlinked++;
    else if (!links.has(item.link!)) {
      links.add(item.link!);
      items.push(item);
    }
  }
  if (items.length === 0) throw new FeedParseError(`${candidates.length} ${words.found}, but ${words.noLink}`);
  const warnings = [
    ...(unlinked > 0 ? [`${unlinked} of ${candidates.length} ${words.unlinked}: left out`] : []),
    ...(dates.unread > 0 ? [`${dates.unread} items' dates are not dates Wirefeed reads (such as "${dates.example}"): filed when first seen`] : []),
  ];
  return { items, ...(warnings.length > 0 ? { warnings } : {}) };
}
