import { parseJsonFeed } from './json-feed.js';
import { FeedParseError, type ParsedFeed } from './types.js';
import { parseXmlFeed } from './xml-feed.js';

export { FeedParseError, type ParsedFeed, type ParsedItem } from './types.js';

/** Turns a decoded feed document (RSS, RDF, Atom or JSON Feed) into a ParsedFeed. */
export async function parseFeed(text: string): Promise<ParsedFeed> {
  const start = text.replace(/^\uFEFF/, '').trimStart();
  if (start === '') throw new FeedParseError('not a feed: empty document');
  if (start.startsWith('{')) return parseJsonFeed(start);
  if (start.startsWith('<')) return parseXmlFeed(start);
  throw new FeedParseError('not a feed: neither XML nor JSON');
}
