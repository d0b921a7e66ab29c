import { parseJsonFeed } from './json-feed.js';
import { FeedParseError, type ParsedFeed } from './types.js';
import { parseXmlFeed } from './xml-feed.js';
import type { KeepItem } from './xml-revise.js';

export { FeedParseError, type ParsedFeed, type ParsedItem } from './types.js';

export interface ParseOptions {
  /**
   * For XML documents: called with each complete item's XML in document order; an item it returns false for is left
   * out of the parse (a reader that knows it already skips the parser's work on it). JSON Feed items are all read.
   */
  keepItem?: KeepItem;
}

/** Whether a decoded document is JSON (an object or a list), not markup: by its first character. */
export const looksLikeJson = (text: string): boolean => /^\uFEFF?\s*[[{]/.test(text);

/** Turns a decoded feed document (RSS, RDF, Atom or JSON Feed) into a ParsedFeed. */
export async function parseFeed(text: string, options: ParseOptions = {}): Promise<ParsedFeed> {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start === '') throw new FeedParseError('not a feed: empty document');
  if (start.startsWith('{')) return parseJsonFeed(start);
  if (start.startsWith('<')) return parseXmlFeed(start, options.keepItem);
  throw new FeedParseError('not a feed: neither XML nor JSON');
}
