import { hash as digest } from 'node:crypto';
import type { NormalizedItem } from '../model/item.js';
import { foldText } from '../normalize/fold.js';
import type { ParsedItem } from '../parse/types.js';

function hash(text: string, length = 24): string {
  return digest('sha256', text, 'hex').slice(0, length);
}

const normalizedTitle = (title: string) =>
  foldText(title)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/**
 * The identity of an item across refetches and link variants: its short URL if it has one, else its canonical URL,
 * else its guid (only unique within its source), else its source and normalized title.
 */
export function itemKey(item: Pick<NormalizedItem, 'shortUrl' | 'url' | 'guid' | 'title'>, sourceId: string): string {
  if (item.shortUrl) return `short:${item.shortUrl}`;
  if (item.url) return `url:${item.url}`;
  if (item.guid) return boundedKey(`guid:${sourceId}:`, item.guid);
  return titleKey(item, sourceId);
}

/** Keys are indexed, and an index entry holds about 2.7 kB: a longer guid is stored by its hash. */
const MAX_KEY_VALUE = 1_000;
const boundedKey = (prefix: string, value: string) => (value.length > MAX_KEY_VALUE ? `${prefix}#sha256:${hash(value, 64)}` : `${prefix}${value}`);

/** Source and normalized title: with the timestamp, it recognizes an item whose guid changes on every fetch. */
export function titleKey(item: Pick<NormalizedItem, 'title'>, sourceId: string): string {
  return `title:${sourceId}:${hash(normalizedTitle(item.title))}`;
}

/** Tells a revision (changed title or text) from a refetch of the same version. */
export function contentHash(item: Pick<NormalizedItem, 'title' | 'contentText' | 'summary'>): string {
  return hash(`${item.title}\n${item.contentText ?? item.summary ?? ''}`);
}

/** A story's id, fixed when its first item arrives and never changed as other outlets join it. */
export function newStoryId(firstItemKey: string, publishedAt: Date): string {
  return hash(`${firstItemKey}\n${publishedAt.toISOString()}`, 20);
}

/**
 * Raised when parsing or normalization changes what it makes of the same input (the revision pass, field mapping,
 * sanitizing, link or date rules): documents and items stored before are then read again on their next fetch, and
 * revised if their text changed. Every hash below starts with it.
 */
const NORMALIZATION_REVISION = 1;

/** What an input is read with, ahead of the input itself in the hashes below. */
const readingScope = (context: object) => `${NORMALIZATION_REVISION}\n${JSON.stringify(context)}\n`;

/**
 * Hashes an item as parsed, within what else its normalization reads (its source, the document's base URL, the source's
 * short-link hosts): the same hash always normalizes to the same item, so a refetch that finds it stored is a
 * duplicate without being normalized.
 */
export function parsedItemHasher(context: { sourceId: string; base?: string; shortUrlHosts?: readonly string[] }): (item: ParsedItem) => string {
  const scope = readingScope(context);
  return (item) => hash(scope + JSON.stringify(item), 32);
}

/**
 * Hashes fetched text (a whole document, or one item's XML) with what reading it depends on (the source's
 * normalization context, the document limits): a document with the same hash as the last one stored whole reads to
 * the same items, all stored (or left out by the source's filter); an item with the same hash as one of that
 * document's is that stored item (or one the filter left out).
 */
export function readingHasher(context: object): (text: string) => string {
  const scope = readingScope(context);
  return (text) => hash(scope + text, 32);
}
