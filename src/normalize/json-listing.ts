/**
 * The items of a JSON document that lists news without being a feed (a broadcaster's or ministry's JSON API behind
 * its "latest" page): `scrape.format: json`, with the rules as dot paths instead of CSS selectors. What FreshRSS calls
 * a "JSON (dot notation)" feed. `items` leads to the array of items (`$` is the document itself); the other paths are
 * looked up in each item. Read in the page reader's thread, as a listing page is; its items are then a feed's.
 */
import type { ScrapeRules } from '../model/source.js';
import { FeedParseError, type ParsedFeed } from '../parse/index.js';
import { type ListedParts, listedItem, listedOnce, MAX_LISTED_CATEGORIES, MAX_LISTING_ELEMENTS, PageDates } from './listing.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Where each part is when the rules do not say: the names JSON APIs give them most often. */
const DEFAULT_PATHS = {
  title: ['title', 'headline', 'name'],
  link: ['link', 'url', 'href'],
  date: ['pubDate', 'date', 'published', 'publishedAt', 'published_at', 'updated', 'time'],
};
/** The member an object value is read by: `{ "author": { "name": … } }`, `{ "image": { "url": … } }`. */
const VALUE_MEMBERS = ['name', 'url', 'href', 'src', 'text', 'value'];
/** Epoch times below this are in seconds, from it in milliseconds (3 March 1973 in milliseconds; year 5138 in seconds). */
const MILLISECONDS_FROM = 1e11;

/** Why a dot path is not one Wirefeed can follow, or undefined: `data.items`, `$` (the whole document), `media.0.url`. */
export function dotPathProblem(path: string): string | undefined {
  if (path === '$') return undefined;
  const steps = path.startsWith('$.') ? path.slice(2) : path;
  if (steps.split('.').some((step) => step.trim() === '' || step !== step.trim())) return 'expected names joined by ".", such as data.items';
  return undefined;
}

/** The value at a dot path (numbers index arrays); undefined where the path leads nowhere. */
function follow(value: Json | undefined, path: string): Json | undefined {
  if (path === '$') return value;
  let at = value;
  for (const step of (path.startsWith('$.') ? path.slice(2) : path).split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = Array.isArray(at) ? (/^\d+$/.test(step) ? at[Number(step)] : undefined) : Object.hasOwn(at, step) ? at[step] : undefined;
  }
  return at;
}

/** How far a value is followed down to its text: a list of objects with names is two steps. */
const MAX_TEXT_STEPS = 4;

/**
 * A value as one piece of text: a string, a number, an object's name or URL, a list's first such, a few steps down
 * at most (a value nested a hundred thousand lists deep is no text, and no stack overflow).
 */
function textOf(value: Json | undefined): string | undefined {
  let at = value;
  for (let step = 0; step < MAX_TEXT_STEPS; step++) {
    if (typeof at === 'string') return at.trim() || undefined;
    if (typeof at === 'number') return Number.isFinite(at) ? String(at) : undefined;
    if (Array.isArray(at)) at = at[0];
    else if (at !== null && typeof at === 'object') {
      const object = at;
      at = VALUE_MEMBERS.map((member) => object[member]).find((member) => typeof member === 'string');
    } else return undefined;
  }
  return undefined;
}

/** The text at the rules' path, else at the first default path that has one. */
function partOf(item: Json, path: string | undefined, defaults: readonly string[] = []): string | undefined {
  if (path !== undefined) return textOf(follow(item, path));
  for (const fallback of defaults) {
    const text = textOf(follow(item, fallback));
    if (text) return text;
  }
  return undefined;
}

/** A date as the item gives it: text as a page writes it, or a number of seconds or milliseconds since 1970. */
function dateOf(item: Json, rules: ScrapeRules, dates: PageDates) {
  const value = rules.date !== undefined ? follow(item, rules.date) : DEFAULT_PATHS.date.map((path) => follow(item, path)).find((found) => found != null);
  if (typeof value === 'number' && Number.isFinite(value)) {
    const time = value < MILLISECONDS_FROM ? value * 1000 : value;
    return dates.read(Number.isNaN(new Date(time).getTime()) ? String(value) : new Date(time).toISOString());
  }
  return dates.read(textOf(value));
}

/** One entry's parts, at the rules' paths, or where APIs usually put them. */
function entryParts(item: Json, rules: ScrapeRules, dates: PageDates): ListedParts {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return { link: undefined };
  const link = partOf(item, rules.link, DEFAULT_PATHS.link);
  if (!link) return { link }; // left out: its other parts are not read (nor its date counted)
  return {
    link,
    title: partOf(item, rules.title, DEFAULT_PATHS.title),
    summary: rules.summary ? partOf(item, rules.summary) : undefined,
    date: dateOf(item, rules, dates),
    image: rules.image ? partOf(item, rules.image) : undefined,
    author: rules.author ? partOf(item, rules.author) : undefined,
    categories: rules.categories ? categoriesOf(follow(item, rules.categories)) : undefined,
  };
}

/** A category, or a list of them: each as text (a name, or an object's name). */
function categoriesOf(value: Json | undefined): string[] {
  const values = Array.isArray(value) ? value.slice(0, MAX_LISTED_CATEGORIES) : [value];
  return values.map(textOf).filter((text): text is string => text !== undefined);
}

/**
 * The items of a JSON listing in document order, each link once. Throws FeedParseError, saying what the operator can
 * change, when the document is not JSON, `items` leads to no array, or none of its entries has a link.
 */
export function readJsonListing(text: string, rules: ScrapeRules, now = new Date()): ParsedFeed {
  let document: Json;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, '')) as Json;
  } catch (error) {
    throw new FeedParseError(`not read as JSON (scrape.format json): ${(error as Error).message}`);
  }
  const found = follow(document, rules.items);
  if (!Array.isArray(found)) {
    throw new FeedParseError(
      `scrape.items '${rules.items}' leads to ${found === undefined ? 'nothing' : `${found === null ? 'null' : typeof found}, not a list of items`}`,
    );
  }
  if (found.length > MAX_LISTING_ELEMENTS) throw new FeedParseError(`not read: scrape.items '${rules.items}' holds more than ${MAX_LISTING_ELEMENTS} entries`);
  if (found.length === 0) throw new FeedParseError(`scrape.items '${rules.items}' is an empty list`);
  const dates = new PageDates(rules, now);
  const which = rules.link ? `scrape.link '${rules.link}'` : `a link (${DEFAULT_PATHS.link.join(', ')})`;
  return {
    format: 'json',
    ...listedOnce(
      found.map((item) => listedItem(entryParts(item, rules, dates))),
      dates,
      { found: `entries at scrape.items '${rules.items}'`, noLink: `none is an object with ${which}`, unlinked: 'entries at scrape.items have no link' },
    ),
  };
}
