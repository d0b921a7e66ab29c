import type { HubLinks } from '../model/source.js';
import { FeedParseError, type ParsedFeed, type ParsedItem } from './types.js';

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

/**
 * JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1), parsed by hand: it is small and rss-parser lacks it. Why it
 * is long: every field of the format is checked and mapped here, in the order of the specification.
 */
export function parseJsonFeed(text: string): ParsedFeed {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new FeedParseError(`not a feed: invalid JSON (${(error as Error).message})`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new FeedParseError('not a feed: JSON document is not an object');
  }
  const feed = document as Record<string, unknown>;
  const version = str(feed.version);
  const warnings: string[] = [];
  if (!version?.startsWith('https://jsonfeed.org/version/')) {
    // "1.1" or "1" for the version URL: a publisher's slip, read as JSON Feed when the rest is one.
    if (!/^1(\.\d+)?$/.test(version ?? '') || !Array.isArray(feed.items)) throw new FeedParseError('not a feed: JSON without a jsonfeed.org "version"');
    warnings.push(`JSON Feed "version" is "${version}", not a https://jsonfeed.org/version/ URL; read as JSON Feed ${version}`);
  }
  if (!Array.isArray(feed.items)) throw new FeedParseError('JSON Feed has no "items" array');
  const feedLanguage = str(feed.language);
  const items = feed.items
    .filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null)
    .map((item): ParsedItem => {
      // 1.1's "authors" and 1.0's "author", both read (publishers write either, or both).
      const authors = [...(Array.isArray(item.authors) ? item.authors : []), ...(item.author ? [item.author] : [])];
      const authorNames = [
        ...new Set(
          authors
            .map((author) => (typeof author === 'object' && author ? str((author as Record<string, unknown>).name) : undefined))
            .filter((name): name is string => name !== undefined),
        ),
      ];
      const id = item.id === undefined || item.id === null ? undefined : String(item.id);
      return {
        guid: id,
        guidIsLink: /^https?:\/\/\S+$/i.test(id ?? ''),
        link: str(item.url) ?? str(item.external_url),
        title: str(item.title),
        titleType: 'text',
        contentHtml: str(item.content_html),
        contentText: str(item.content_text),
        summaryHtml: str(item.summary),
        dates: [str(item.date_published), str(item.date_modified)].filter((date): date is string => !!date),
        author: authorNames.length ? authorNames.join(', ') : undefined,
        categories: Array.isArray(item.tags) ? item.tags.filter((tag): tag is string => typeof tag === 'string') : [],
        language: str(item.language) ?? feedLanguage,
        imageUrl: str(item.image) ?? str(item.banner_image),
        enclosures: (Array.isArray(item.attachments) ? item.attachments : [])
          .filter((attachment): attachment is Record<string, unknown> => typeof attachment === 'object' && attachment !== null && !!str(attachment.url))
          .map((attachment) => ({
            url: str(attachment.url)!,
            ...(str(attachment.mime_type) ? { type: str(attachment.mime_type) } : {}),
            ...(Number.isSafeInteger(attachment.size_in_bytes) && (attachment.size_in_bytes as number) > 0
              ? { length: attachment.size_in_bytes as number }
              : {}),
          })),
      };
    });
  return {
    format: 'json',
    title: str(feed.title),
    titleType: 'text',
    siteUrl: str(feed.home_page_url),
    language: feedLanguage,
    ...pushOf(feed),
    items,
    ...(warnings.length ? { warnings } : {}),
  };
}

/** JSON Feed's WebSub hub (`hubs`, the first of type WebSub) and self link (`feed_url`). */
function pushOf(feed: Record<string, unknown>): { push?: HubLinks } {
  const hubs = Array.isArray(feed.hubs) ? feed.hubs : [];
  const hub = hubs.find(
    (entry): entry is Record<string, unknown> => typeof entry === 'object' && entry !== null && str(entry.type)?.toLowerCase() === 'websub' && !!str(entry.url),
  );
  return hub ? { push: { hub: str(hub.url)!, ...(str(feed.feed_url) ? { self: str(feed.feed_url) } : {}) } } : {};
}
